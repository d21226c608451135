"""Pages of the people who act for an organisation: only their own organisations' data."""

from __future__ import annotations

from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from onboarding import selectors, services
from onboarding.invitations import read_invitation
from onboarding.models import Organisation
from onboarding.services.confirmations import contact_roles_missing, contacts_needing_replacement


@verified_email_required
def my_organisations(request):
    return render(
        request,
        "onboarding/my_organisations.html",
        {
            "organisations": selectors.organisations_for_user(request.user).order_by("name_fi"),
            "registrations": selectors.registrations_visible_to(request.user).order_by(
                "-submitted_at"
            )[:20],
        },
    )


@verified_email_required
def organisation(request, pk: int):
    organisation = get_object_or_404(selectors.organisations_for_user(request.user), pk=pk)
    terms = selectors.current_terms()
    return render(
        request,
        "onboarding/organisation.html",
        {
            "organisation": organisation,
            "terms": terms,
            "acceptance_due": selectors.acceptance_due(organisation, terms),
            "acceptances": organisation.acceptances.select_related("terms_version", "accepted_by"),
            "contacts": organisation.contacts.filter(is_active=True),
            "waiting": selectors.waiting_registration(organisation.oid),
            "needing_replacement": contacts_needing_replacement(organisation),
            "missing_roles": contact_roles_missing(organisation),
        },
    )


@verified_email_required
def registration(request, pk: int, *, confirm_withdraw: bool = False):
    registration = get_object_or_404(selectors.registrations_visible_to(request.user), pk=pk)
    return render(
        request,
        "onboarding/registration.html",
        {
            "registration": registration,
            "confirm_withdraw": confirm_withdraw and registration.is_waiting,
        },
    )


@verified_email_required
def registration_withdraw(request, pk: int):
    """GET asks to confirm; POST withdraws (the sender or an active contact, while it waits)."""
    if request.method != "POST":
        return registration(request, pk, confirm_withdraw=True)
    found = get_object_or_404(selectors.registrations_visible_to(request.user), pk=pk)
    try:
        services.registration_withdraw(registration_id=found.pk, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The notification was withdrawn. OPH will not review it; you can send a new one."),
        )
    return redirect("onboarding:registration", pk=found.pk)


@verified_email_required
def invitation(request, token: str):
    """A campaign's personal link: opens the organisation's notification. The organisation's
    contacts are prefilled only for the person the link was sent to, signed in with that
    address; anyone else still gets the notification, without them."""
    found = read_invitation(token)
    organisation = found and Organisation.objects.filter(pk=found.organisation_id).first()
    if organisation is None:
        messages.error(
            request,
            _(
                "The link is broken or has expired. Start the notification "
                "with your organisation's OID, or ask customer service."
            ),
        )
        return redirect("onboarding:notify_start")
    if selectors.invitation_grants_contacts(found, request.user):
        invited = set(request.session.get("invited_organisations", []))
        request.session["invited_organisations"] = sorted(invited | {organisation.pk})
    else:
        messages.info(
            request,
            _(
                "This link was sent to another email address. To see the organisation's "
                "current contact persons, sign in with that address."
            ),
        )
    return redirect("onboarding:notify", oid=organisation.oid)
