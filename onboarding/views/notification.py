"""The notification: OID, then the form, then check your answers, then submit (once)."""

from __future__ import annotations

import uuid

from allauth.account.adapter import get_adapter
from allauth.account.decorators import verified_email_required
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from onboarding import selectors, services
from onboarding.forms import ContactFormSet, NotificationForm, OidForm, contact_rows
from onboarding.identifiers import validate_organisation_oid
from onboarding.localised import active_language
from onboarding.models import ContactPerson, Organisation, Registration, TermsVersion
from onboarding.models.organisations import Language
from onboarding.services.registrations import ORGANISATION_FIELDS
from onboarding.views.error_summary import error_summary

DECLARATION_FIELDS = (
    "learner_numbers_confirmed",
    "uses_test_learner_numbers",
    "test_learner_number_use",
)
ACCEPTANCE_FIELDS = ("accepter_name", "accepter_title", "authority_confirmed")
MAX_CONTACTS = ContactFormSet.max_num


@verified_email_required
def notify_start(request):
    form = OidForm(request.POST or None, initial={"oid": request.GET.get("oid", "")})
    if request.method == "POST" and form.is_valid():
        oid = form.cleaned_data["oid"]
        waiting = selectors.waiting_registration(oid)
        if waiting is None:
            return redirect("onboarding:notify", oid=oid)
        return _to_waiting(request, waiting, form)
    return _start_page(request, form)


def _start_page(request, form: OidForm, *, already_waiting: bool = False):
    errors = error_summary(form) if form.is_bound else []
    return render(
        request,
        "onboarding/notify_start.html",
        {"form": form, "errors": errors, "already_waiting": already_waiting},
        status=409 if already_waiting else 400 if errors else 200,
    )


def _to_waiting(request, waiting: Registration, form: OidForm | None = None):
    """One notification of an organisation waits at a time: to it, for those who may see it
    (to withdraw or correct it); others are told only that it exists, and whom to ask."""
    if selectors.may_see_registration(request.user, waiting):
        messages.info(
            request,
            _(
                "A notification for this organisation is already waiting. You can withdraw it "
                "or, if OPH asked for changes, correct it."
            ),
        )
        return redirect("onboarding:registration", pk=waiting.pk)
    form = form or OidForm({"oid": waiting.oid})
    form.is_valid()
    form.add_error("oid", services.NotificationAlreadyWaiting(None))
    return _start_page(request, form, already_waiting=True)


def _valid_oid(oid: str) -> str:
    try:
        return validate_organisation_oid(oid, allow_test=settings.ALLOW_TEST_ORGANISATIONS)
    except ValidationError as error:
        raise Http404 from error


def _drafts(request) -> dict:
    return request.session.setdefault("notification_drafts", {})


def _initial(
    request, organisation: Organisation | None, correction: Registration | None
) -> tuple[dict, list[dict]]:
    """What the form starts with: a notification sent back for changes as it was sent; else
    public facts of a known organisation, its contacts only for people who are its contacts
    already (others must not read them)."""
    if correction is not None:
        data = correction.data
        values = {**data["organisation"], **data["declarations"]}
        if data["acceptance"]:
            values |= {f: data["acceptance"][f] for f in ("accepter_name", "accepter_title")}
        return values, contact_rows(data["contacts"])
    if organisation is None:
        return {}, contact_rows(None)
    values = {field: getattr(organisation, field) for field in ORGANISATION_FIELDS}
    contacts = None
    invited = organisation.pk in request.session.get("invited_organisations", [])
    if invited or selectors.user_is_contact(request.user, organisation):
        values["uses_test_learner_numbers"] = bool(organisation.test_learner_number_use)
        values["test_learner_number_use"] = organisation.test_learner_number_use
        contacts = [
            {
                "name": c.name,
                "email": c.email,
                "phone": str(c.phone or ""),
                "role": c.role,
                "language": c.language,
            }
            for c in organisation.contacts.filter(is_active=True)
        ]
    return values, contact_rows(contacts)


def _rows_from_post(post) -> list[dict]:
    try:
        total = min(int(post.get("contacts-TOTAL_FORMS", 0)), MAX_CONTACTS)
    except ValueError:
        total = 0
    fields = ("name", "email", "phone", "role", "language")
    return [{f: post.get(f"contacts-{i}-{f}", "") for f in fields} for i in range(total)]


@verified_email_required
def notify(request, oid: str):
    oid = _valid_oid(oid)
    organisation = Organisation.objects.filter(oid=oid).first()
    terms = selectors.current_terms()
    asks_acceptance = selectors.acceptance_due(organisation, terms)
    draft = _drafts(request).get(oid)
    waiting = selectors.waiting_registration(oid)
    correction = waiting if waiting and selectors.may_correct(request.user, waiting) else None
    if request.method == "GET" and waiting is not None and correction is None:
        return _to_waiting(request, waiting)

    if request.method == "POST" and "add_contact" in request.POST:
        rows = _rows_from_post(request.POST)
        if len(rows) < MAX_CONTACTS:
            rows.append({"role": "", "language": active_language()})
        form = NotificationForm(initial=request.POST.dict(), asks_acceptance=asks_acceptance)
        formset = ContactFormSet(initial=rows, prefix="contacts")
        token = request.POST.get("token")
    elif request.method == "POST":
        form = NotificationForm(request.POST, asks_acceptance=asks_acceptance)
        formset = ContactFormSet(request.POST, prefix="contacts")
        token = request.POST.get("token")
        if asks_acceptance and request.POST.get("terms_version") != terms.version:
            # The form showed another version than the one now in force: never accept unseen.
            form.is_valid()
            form.add_error(
                "accept_terms",
                _(
                    "The terms of use changed while you filled in the form. Read the current "
                    "version below and accept it again."
                ),
            )
        if form.is_valid() and formset.is_valid():
            _drafts(request)[oid] = _draft(
                oid, form, formset, token, terms if asks_acceptance else None
            )
            request.session.modified = True
            return redirect("onboarding:notify_check", oid=oid)
    elif draft and draft.get("error"):
        # The submit found the terms changed: the draft again, with why, at the acceptance.
        post = _post_from_draft(draft)
        form = NotificationForm(post, asks_acceptance=asks_acceptance)
        formset = ContactFormSet(post, prefix="contacts")
        form.is_valid()
        formset.is_valid()
        if "accept_terms" in form.fields:
            form.errors.pop("accept_terms", None)
            form.add_error("accept_terms", draft["error"])
        else:  # nothing to accept any more (accepted meanwhile): still say what happened
            form.add_error(None, draft["error"])
        token = draft["token"]
    else:
        if draft:
            initial, rows = draft["form"], draft["data"]["contacts"]
            token = draft["token"]
        else:
            initial, rows = _initial(request, organisation, correction)
            token = str(uuid.uuid4())
        form = NotificationForm(initial=initial, asks_acceptance=asks_acceptance)
        formset = ContactFormSet(initial=rows, prefix="contacts")

    errors = error_summary(form, formset) if form.is_bound else []
    return render(
        request,
        "onboarding/notify.html",
        {
            "oid": oid,
            "organisation": organisation,
            "form": form,
            "formset": formset,
            "terms": terms if asks_acceptance else None,
            "token": token,
            "errors": errors,
            "can_add_contact": formset.total_form_count() < MAX_CONTACTS,
            "correction": correction,
        },
        status=400 if errors else 200,
    )


def _draft_terms(data: dict) -> TermsVersion | None:
    """The terms version a draft accepts, if it accepts one."""
    if not data["acceptance"]:
        return None
    return TermsVersion.objects.filter(version=data["acceptance"]["terms_version"]).first()


def _post_from_draft(draft: dict) -> dict:
    """The draft as the browser posts it, to show it again with its errors."""
    post = {
        name: ("on" if value else "") if isinstance(value, bool) else value
        for name, value in draft["form"].items()
    }
    rows = draft["data"]["contacts"]
    post |= {"contacts-TOTAL_FORMS": len(rows), "contacts-INITIAL_FORMS": len(rows)}
    for index, row in enumerate(rows):
        post |= {f"contacts-{index}-{name}": value for name, value in row.items()}
    return post


def _draft(oid, form, formset, token, terms: TermsVersion | None) -> dict:
    cleaned = form.cleaned_data
    try:
        token = str(uuid.UUID(token))
    except (TypeError, ValueError):
        token = str(uuid.uuid4())
    data = {
        "organisation": {"oid": oid, **{f: cleaned[f] for f in ORGANISATION_FIELDS}},
        "contacts": formset.contacts(),
        "declarations": {f: cleaned[f] for f in DECLARATION_FIELDS},
        "acceptance": None,
    }
    if terms is not None:
        data["acceptance"] = {
            "terms_version": terms.version,
            "content_sha256": terms.content_sha256,
            "language": terms.shown_lang,  # the text the person read
            **{f: cleaned[f] for f in ACCEPTANCE_FIELDS},
        }
    return {"token": token, "data": data, "form": dict(cleaned)}


@verified_email_required
def notify_check(request, oid: str):
    oid = _valid_oid(oid)
    draft = _drafts(request).get(oid)
    if draft is None:
        return redirect("onboarding:notify", oid=oid)
    data = draft["data"]
    terms = _draft_terms(data)
    contacts = [
        {
            **contact,
            "role_label": ContactPerson.Role(contact["role"]).label,
            "language_label": Language(contact["language"]).label,
        }
        for contact in data["contacts"]
    ]
    return render(
        request,
        "onboarding/notify_check.html",
        {
            "oid": oid,
            "data": data,
            "terms": terms,
            "token": draft["token"],
            "contacts": contacts,
            "kind_label": Organisation.Kind(data["organisation"]["kind"]).label,
        },
    )


@require_POST
@verified_email_required
def notify_submit(request, oid: str):
    oid = _valid_oid(oid)
    draft = _drafts(request).get(oid)
    if draft is None:
        # Submitted already (a double click or the back button): show what was sent.
        existing = selectors.registration_by_token(
            request.user, _uuid_or_none(request.POST.get("token"))
        )
        if existing:
            return redirect("onboarding:registration", pk=existing.pk)
        return redirect("onboarding:notify", oid=oid)
    data = draft["data"]
    terms = _draft_terms(data)
    try:
        registration, created = services.registration_submit(
            user=request.user,
            token=uuid.UUID(draft["token"]),
            data=data,
            terms_version=terms,
            content_sha256=data["acceptance"]["content_sha256"] if terms else "",
            meta=services.RequestMeta(
                ip_address=get_adapter(request).get_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                language=active_language(),  # of the pages, and so of the emails
            ),
        )
    except services.NotificationAlreadyWaiting:
        # Another notification of the organisation was sent meanwhile: the form shows it (or
        # says it exists); the draft is kept in case that one is withdrawn.
        return redirect("onboarding:notify", oid=oid)
    except ValidationError as error:
        # Keep everything typed; only the acceptance must be given again.
        draft["form"].update(accept_terms=False, authority_confirmed=False)
        draft["error"] = " ".join(error.messages)
        request.session.modified = True
        return redirect("onboarding:notify", oid=oid)
    _drafts(request).pop(oid, None)
    request.session.modified = True
    if created:
        messages.success(
            request,
            _("Thank you. Your notification was sent; a receipt is on its way to your email."),
        )
    else:
        messages.info(request, _("This notification was sent already; it was not sent again."))
    return redirect("onboarding:registration", pk=registration.pk)


def _uuid_or_none(value):
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None
