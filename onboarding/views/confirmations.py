"""The yearly confirmation of contacts: the page a personal link opens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from onboarding.services.confirmations import (
    confirmation_page,
    contacts_confirm,
    read_confirmation_link,
)


@require_http_methods(["GET", "POST"])
def confirm_contacts(request, token: str):
    """The organisation's contacts for the person the link was sent to (the signed link is the
    credential, as in the email): POST records "still correct"; a change goes through the
    usual notification. A forged, expired or outdated link gets a page that says so."""
    link = read_confirmation_link(token)
    page = confirmation_page(link)
    if page is None:
        return render(request, "onboarding/confirm_contacts_invalid.html", status=400)
    if request.method == "POST":
        try:
            contacts_confirm(link=link)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you: the contact persons are confirmed."))
        return redirect("onboarding:confirm_contacts", token=token)
    return render(request, "onboarding/confirm_contacts.html", {"page": page})
