from __future__ import annotations

from django.conf import settings

from portal.celery import app


def test_reminders_go_out_every_morning_at_eight_helsinki_time():
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-reminders"]
    assert entry["task"] == "onboarding.tasks.send_due_reminders"
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {0}
    assert app.conf.timezone == "Europe/Helsinki"
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert "onboarding.tasks.send_due_reminders" in app.tasks


def test_expired_sessions_and_notifications_are_cleared_every_night():
    app.loader.import_default_modules()
    for name in ("clear-expired-sessions", "delete-expired-notifications"):
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] in app.tasks
        assert entry["schedule"].hour == {3}


def test_overdue_emails_are_swept_every_minute_on_the_queue_no_campaign_fills():
    entry = settings.CELERY_BEAT_SCHEDULE["send-stranded-emails"]
    assert entry["task"] == "onboarding.tasks.send_stranded_emails"
    assert entry["schedule"] == 60.0
    from onboarding.tasks import ACCOUNT_QUEUE

    assert entry["options"]["queue"] == ACCOUNT_QUEUE
    app.loader.import_default_modules()
    assert "onboarding.tasks.send_stranded_emails" in app.tasks
