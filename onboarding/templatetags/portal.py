"""Template helpers shared by our pages and allauth's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django import template

from onboarding.models.campaigns import step_label as _step_label
from onboarding.views.error_summary import error_summary as _error_summary

register = template.Library()


@register.filter
def error_summary(form) -> list[tuple[str, str]]:
    """The form's errors as (anchor, message) pairs, for includes/error_summary.html."""
    return _error_summary(form) if form.is_bound else []


@register.filter
def step_label(step: str) -> str:
    """A campaign step as staff read it: invitation, N days before, lapse notice."""
    return _step_label(step)


@register.filter
def evidence_utc(moment: datetime) -> str:
    """A moment of evidence in UTC, ISO 8601 to the second, whatever the reader's language."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@register.filter
def evidence_helsinki(moment: datetime) -> str:
    """The same moment in Helsinki time, with its offset from UTC (+02:00 or +03:00)."""
    local = moment.astimezone(ZoneInfo("Europe/Helsinki"))
    return f"{local:%Y-%m-%d %H:%M:%S} (UTC{local.isoformat()[-6:]})"
