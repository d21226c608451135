"""Import files nobody confirms are deleted from the media storage after a day."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.storage import default_storage

from onboarding.services import import_uploads
from onboarding.services.import_uploads import (
    import_upload_save,
    import_upload_take,
    import_uploads_delete_abandoned,
)
from portal.celery import app


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """A storage of the test's own, without other tests' uploads."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def saved(*, hours_ago: float) -> str:
    _token, name = import_upload_save(data=b"oid;name_fi\n")
    when = time.time() - hours_ago * 3600
    os.utime(default_storage.path(name), (when, when))
    return name


def test_an_upload_older_than_a_day_is_deleted_and_a_fresh_one_kept():
    old = saved(hours_ago=25)
    fresh = saved(hours_ago=23)

    assert import_uploads_delete_abandoned() == [old]

    assert not default_storage.exists(old)
    assert import_upload_take(name=fresh) == b"oid;name_fi\n"


def test_it_keeps_other_files_of_the_folder(media):
    (media / "imports").mkdir()
    (media / "imports" / "notes.txt").write_text("kept")
    os.utime(media / "imports" / "notes.txt", (0, 0))

    assert import_uploads_delete_abandoned() == []
    assert (media / "imports" / "notes.txt").exists()


def test_nothing_uploaded_yet_is_nothing_to_delete():
    assert import_uploads_delete_abandoned() == []


def test_an_upload_confirmed_while_the_sweep_runs_is_skipped(monkeypatch):
    confirmed = saved(hours_ago=30)
    abandoned = saved(hours_ago=30)
    modified_time = default_storage.get_modified_time

    def confirmed_meanwhile(name):
        if name == confirmed:
            import_upload_take(name=name)
        return modified_time(name)

    monkeypatch.setattr(default_storage, "get_modified_time", confirmed_meanwhile)

    assert import_uploads_delete_abandoned() == [abandoned]
    assert not default_storage.exists(abandoned)


def test_the_sweep_runs_every_night(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["delete-abandoned-import-uploads"]
    assert entry["task"] == "onboarding.tasks.delete_abandoned_import_uploads"
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}
    assert import_uploads.UPLOAD_MAX_AGE.days == 1  # what the preview page promises
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert "onboarding.tasks.delete_abandoned_import_uploads" in app.tasks
