"""Uploaded import files waiting in the media storage between the admin's preview and its
confirmation.

A file waits under a random token; the confirmation takes it (reads and deletes it). A file
nobody confirms is deleted by the nightly sweep once it is older than a day, so an abandoned
upload (its personal data included) does not stay in the storage for ever.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

UPLOAD_DIRECTORY = "imports"
UPLOAD_SUFFIX = ".upload"
# The preview page says "Confirm within a day"; change the two together.
UPLOAD_MAX_AGE = timedelta(days=1)


def import_upload_save(*, data: bytes) -> tuple[str, str]:
    """Keep an uploaded file until its confirmation; returns its token and storage name."""
    token = secrets.token_urlsafe(16)
    name = default_storage.save(f"{UPLOAD_DIRECTORY}/{token}{UPLOAD_SUFFIX}", ContentFile(data))
    return token, name


def import_upload_take(*, name: str) -> bytes:
    """The waiting file's content, deleted from the storage: a file is imported once.

    Raises OSError (FileNotFoundError) when the file is gone, e.g. deleted as abandoned.
    """
    with default_storage.open(name, "rb") as stored:
        data = stored.read()
    default_storage.delete(name)
    return data


def import_uploads_delete_abandoned(*, older_than: timedelta = UPLOAD_MAX_AGE) -> list[str]:
    """Delete the uploads nobody confirmed within `older_than`; returns their names.

    A file confirmed (so deleted) while the sweep runs is skipped, not an error.
    """
    try:
        _directories, files = default_storage.listdir(UPLOAD_DIRECTORY)
    except FileNotFoundError:  # nothing was ever uploaded
        return []
    cutoff = timezone.now() - older_than
    deleted = []
    for file_name in sorted(files):
        if not file_name.endswith(UPLOAD_SUFFIX):
            continue
        name = f"{UPLOAD_DIRECTORY}/{file_name}"
        try:
            if default_storage.get_modified_time(name) >= cutoff:
                continue
            default_storage.delete(name)
        except FileNotFoundError:
            continue
        deleted.append(name)
    return deleted
