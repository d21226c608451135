"""Expired sessions are cleared every night, not kept in the database for ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from onboarding.tasks import clear_expired_sessions

pytestmark = pytest.mark.django_db


def session(*, expires_in: timedelta) -> str:
    store = SessionStore()
    store["draft"] = "a notification in progress"
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def test_the_nightly_task_clears_expired_sessions_and_keeps_live_ones():
    expired = session(expires_in=-timedelta(minutes=1))
    live = session(expires_in=timedelta(days=1))

    clear_expired_sessions.apply().get()

    assert list(Session.objects.values_list("pk", flat=True)) == [live]
    assert expired != live
