"""The notification: OID, then the form, then check your answers, then submit (once)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields, replace

from allauth.account.adapter import get_adapter
from allauth.account.decorators import verified_email_required
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from onboarding import notification_registry, selectors, services
from onboarding.forms import (
    BaseContactFormSet,
    ContactFormSet,
    NotificationForm,
    OidForm,
    contact_rows,
)
from onboarding.identifiers import validate_organisation_oid
from onboarding.localised import active_language
from onboarding.models import Organisation, Registration, RegistryEntry, TermsVersion
from onboarding.notification_data import ContactDetails, NotificationData, OrganisationDetails
from onboarding.views.error_summary import error_summary

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


@dataclass(frozen=True)
class Draft:
    """A notification checked but not sent yet, kept in the session (as JSON) by its OID."""

    token: str
    data: NotificationData
    error: str = ""  # why the submit refused it, shown at the acceptance

    @classmethod
    def from_session(cls, value: dict) -> Draft:
        return cls(
            token=value["token"],
            data=NotificationData.from_json(value["data"]),
            error=value.get("error", ""),
        )

    def to_session(self) -> dict:
        return {"token": self.token, "data": self.data.to_json(), "error": self.error}


def _draft(request, oid: str) -> Draft | None:
    value = request.session.get("notification_drafts", {}).get(oid)
    return Draft.from_session(value) if value else None


def _keep_draft(request, oid: str, draft: Draft | None) -> None:
    """Keep `draft` as the draft of `oid`; None forgets it.

    A session keeps at most `settings.NOTIFICATION_DRAFTS_PER_SESSION` drafts, the most
    recently kept; older ones are forgotten. The form's limits bound each draft's size (every
    field has a maximum length, and there are at most MAX_CONTACTS contacts)."""
    drafts = request.session.setdefault("notification_drafts", {})
    drafts.pop(oid, None)  # kept again, it becomes the newest
    if draft is not None:
        drafts[oid] = draft.to_session()
    for oldest in list(drafts)[: -settings.NOTIFICATION_DRAFTS_PER_SESSION]:
        del drafts[oldest]
    request.session.modified = True


def _initial(
    request,
    organisation: Organisation | None,
    correction: Registration | None,
    registry: RegistryEntry | None,
) -> tuple[dict, list[dict]]:
    """What the form starts with: a notification sent back for changes as it was sent; else
    public facts of a known organisation, its contacts only for people who are its contacts
    already (others must not read them); else, for an organisation new to the portal, its
    names and business ID as OPH's organisation registry has them."""
    if correction is not None:
        return correction.submitted.to_initial()
    if organisation is None:
        return notification_registry.form_prefill(registry), []
    values = OrganisationDetails.of(organisation).values()
    contacts = []
    invited = organisation.pk in request.session.get("invited_organisations", [])
    if invited or selectors.user_is_contact(request.user, organisation):
        values["uses_test_learner_numbers"] = bool(organisation.test_learner_number_use)
        values["test_learner_number_use"] = organisation.test_learner_number_use
        contacts = [
            asdict(ContactDetails.of(person))
            for person in organisation.contacts.filter(is_active=True)
        ]
    return values, contacts


def _rows_from_post(post) -> list[dict]:
    try:
        total = min(int(post.get("contacts-TOTAL_FORMS", 0)), MAX_CONTACTS)
    except ValueError:
        total = 0
    names = [field.name for field in fields(ContactDetails)]
    return [{f: post.get(f"contacts-{i}-{f}", "") for f in names} for i in range(total)]


@verified_email_required
def notify(request, oid: str):
    oid = _valid_oid(oid)
    organisation = Organisation.objects.filter(oid=oid).first()
    waiting = selectors.waiting_registration(oid)
    correction = waiting if waiting and selectors.may_correct(request.user, waiting) else None
    if request.method == "GET" and waiting is not None and correction is None:
        return _to_waiting(request, waiting)
    current = selectors.current_terms()
    terms = current if selectors.acceptance_due(organisation, current) else None
    # Asked once as the form opens; a re-render reads what was stored then.
    registry = notification_registry.registry_for_form(oid, ask=request.method == "GET")

    if request.method == "POST" and "add_contact" in request.POST:
        form, formset = _forms_with_another_row(request.POST, terms)
        token = request.POST.get("token")
    elif request.method == "POST":
        form, formset = _posted_forms(request.POST, terms)
        if form.is_valid() and formset.is_valid():
            data = NotificationData.from_forms(oid, form, formset, terms)
            _keep_draft(request, oid, Draft(token=_token(request.POST.get("token")), data=data))
            return redirect("onboarding:notify_check", oid=oid)
        token = request.POST.get("token")
    else:
        form, formset, token = _forms_to_start(
            request, oid, organisation, correction, terms, registry
        )

    form.show_registry_values(notification_registry.registry_values(registry))
    errors = error_summary(form, formset) if form.is_bound else []
    return render(
        request,
        "onboarding/notify.html",
        {
            "oid": oid,
            "organisation": organisation,
            "form": form,
            "formset": formset,
            "terms": terms,
            "token": token,
            "errors": errors,
            "can_add_contact": formset.total_form_count() < MAX_CONTACTS,
            "correction": correction,
            "registry_warning": notification_registry.form_warning(registry),
        },
        status=400 if errors else 200,
    )


def _posted_forms(post, terms: TermsVersion | None) -> tuple[NotificationForm, BaseContactFormSet]:
    """The form as sent; `terms` are those to accept, if any."""
    form = NotificationForm(post, asks_acceptance=terms is not None)
    formset = ContactFormSet(post, prefix="contacts")
    if terms is not None and post.get("terms_version") != terms.version:
        # The form showed another version than the one now in force: never accept unseen.
        form.is_valid()
        form.add_error("accept_terms", services.TermsChanged())
    return form, formset


def _forms_with_another_row(
    post, terms: TermsVersion | None
) -> tuple[NotificationForm, BaseContactFormSet]:
    """The form as sent, unchecked, with one more contact row (up to the most allowed)."""
    rows = _rows_from_post(post)
    if len(rows) < MAX_CONTACTS:
        rows.append({"role": "", "language": active_language()})
    form = NotificationForm(initial=post.dict(), asks_acceptance=terms is not None)
    return form, ContactFormSet(initial=rows, prefix="contacts")


def _forms_to_start(
    request,
    oid: str,
    organisation: Organisation | None,
    correction: Registration | None,
    terms: TermsVersion | None,
    registry: RegistryEntry | None,
) -> tuple[NotificationForm, BaseContactFormSet, str]:
    """(form, formset, token) when the form opens: the draft, refused or not, or a new one."""
    draft = _draft(request, oid)
    if draft and draft.error:
        return (*_refused_forms(draft, terms), draft.token)
    if draft:
        (initial, rows), token = draft.data.to_initial(accepted=True), draft.token
    else:
        initial, rows = _initial(request, organisation, correction, registry)
        token = str(uuid.uuid4())
    form = NotificationForm(initial=initial, asks_acceptance=terms is not None)
    return form, ContactFormSet(initial=contact_rows(rows), prefix="contacts"), token


def _refused_forms(
    draft: Draft, terms: TermsVersion | None
) -> tuple[NotificationForm, BaseContactFormSet]:
    """The submit found the terms changed: the draft again, with why, at the acceptance (to
    be given again)."""
    post = _post_from(draft.data)
    form = NotificationForm(post, asks_acceptance=terms is not None)
    formset = ContactFormSet(post, prefix="contacts")
    form.is_valid()
    formset.is_valid()
    if "accept_terms" in form.fields:
        form.errors.pop("accept_terms", None)
        form.add_error("accept_terms", draft.error)
    else:  # nothing to accept any more (accepted meanwhile): still say what happened
        form.add_error(None, draft.error)
    return form, formset


def _post_from(data: NotificationData) -> dict:
    """The notification as the browser posts it, without the acceptance's ticks."""
    values, rows = data.to_initial()
    post = {
        name: ("on" if value else "") if isinstance(value, bool) else value
        for name, value in values.items()
    }
    post |= {"contacts-TOTAL_FORMS": len(rows), "contacts-INITIAL_FORMS": len(rows)}
    for index, row in enumerate(rows):
        post |= {f"contacts-{index}-{name}": value for name, value in row.items()}
    return post


def _draft_terms(data: NotificationData) -> TermsVersion | None:
    """The terms version a draft accepts, if it accepts one."""
    if data.acceptance is None:
        return None
    return TermsVersion.objects.filter(version=data.acceptance.terms_version).first()


def _token(value) -> str:
    """The form's submission token, or a new one for a missing or broken one."""
    return str(_uuid_or_none(value) or uuid.uuid4())


@verified_email_required
def notify_check(request, oid: str):
    oid = _valid_oid(oid)
    draft = _draft(request, oid)
    if draft is None:
        return redirect("onboarding:notify", oid=oid)
    return render(
        request,
        "onboarding/notify_check.html",
        {
            "oid": oid,
            "notification": draft.data,
            "terms": _draft_terms(draft.data),
            "token": draft.token,
            "registry_warning": notification_registry.form_warning(
                notification_registry.registry_for_form(oid, ask=False)
            ),
        },
    )


@require_POST
@verified_email_required
def notify_submit(request, oid: str):
    oid = _valid_oid(oid)
    draft = _draft(request, oid)
    if draft is None:
        # Submitted already (a double click or the back button): show what was sent.
        existing = selectors.registration_by_token(
            request.user, _uuid_or_none(request.POST.get("token"))
        )
        if existing:
            return redirect("onboarding:registration", pk=existing.pk)
        return redirect("onboarding:notify", oid=oid)
    terms = _draft_terms(draft.data)
    try:
        registration, created = services.registration_submit(
            user=request.user,
            token=uuid.UUID(draft.token),
            data=draft.data,
            terms_version=terms,
            content_sha256=draft.data.acceptance.content_sha256 if terms else "",
            meta=services.RequestMeta(
                ip_address=get_adapter(request).get_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                language=active_language(),  # of the pages, and so of the emails
            ),
        )
    except services.TooManyNotifications as error:
        # Nothing typed is lost, the acceptance included: the same answers can be sent later.
        messages.error(request, " ".join(error.messages))
        return redirect("onboarding:notify_check", oid=oid)
    except services.NotificationAlreadyWaiting:
        # Another notification of the organisation was sent meanwhile: the form shows it (or
        # says it exists); the draft is kept in case that one is withdrawn.
        return redirect("onboarding:notify", oid=oid)
    except ValidationError as error:
        # Keep everything typed; only the acceptance must be given again.
        _keep_draft(request, oid, replace(draft, error=" ".join(error.messages)))
        return redirect("onboarding:notify", oid=oid)
    _keep_draft(request, oid, None)
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
