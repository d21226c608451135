"""The sign-in step that more than one allauth page shows."""

from __future__ import annotations

from django import template

from onboarding.accounts.forms import EmailCodeForm

register = template.Library()


@register.simple_tag
def email_code_form() -> EmailCodeForm:
    """An empty "your email address" step, for pages whose own form is another one."""
    return EmailCodeForm()
