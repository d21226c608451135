"""Template helpers shared by our pages and allauth's."""

from __future__ import annotations

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
