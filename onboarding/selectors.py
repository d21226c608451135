"""Reads of the domain: who is a member, which terms are current, what the registry says."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from onboarding.models import (
    AcceptanceCampaign,
    CampaignMessage,
    CampaignTarget,
    ContactPerson,
    Organisation,
    OutgoingEmail,
    Registration,
    RegistryCheck,
    RegistryEntry,
    TermsAcceptance,
    TermsVersion,
    User,
)
from onboarding.models.registry import RegistryState
from onboarding.organisation_registry import is_closing, status_label


def current_terms(*, on: date | None = None) -> TermsVersion | None:
    """The published version in force on `on` (today): the latest one already effective."""
    on = on or timezone.localdate()
    return (
        TermsVersion.objects.published()
        .filter(effective_from__lte=on)
        .order_by("-effective_from", "-published_at")
        .first()
    )


def organisations_for_review() -> QuerySet[Organisation]:
    """Organisations with what a reviewer's list shows, in a constant number of queries."""
    latest = TermsAcceptance.objects.filter(organisation=OuterRef("pk")).order_by("-accepted_at")
    # A subquery, not Count() over a join: without GROUP BY, PostgreSQL counts only the rows
    # of the page, not those of every organisation (10,000) before the LIMIT.
    active_contacts = (
        ContactPerson.objects.filter(organisation=OuterRef("pk"), is_active=True)
        .order_by()
        .values("organisation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Organisation.objects.annotate(
        active_contact_count=Coalesce(Subquery(active_contacts), 0),
        latest_terms_version=Subquery(latest.values("terms_version__version")[:1]),
        latest_accepted_at=Subquery(latest.values("accepted_at")[:1]),
    )


def published_terms() -> QuerySet[TermsVersion]:
    return TermsVersion.objects.published().order_by("-effective_from", "-published_at")


@dataclass(frozen=True)
class TermsOverview:
    current: TermsVersion | None
    upcoming: list[TermsVersion]  # published, not yet in force; the soonest first
    earlier: list[TermsVersion]  # in force once, replaced since; the latest first


def terms_overview(*, on: date | None = None) -> TermsOverview:
    """Every published version, as the terms page shows them on `on` (today)."""
    on = on or timezone.localdate()
    versions = list(published_terms())  # in current_terms' order: the first in force is current
    current = next((v for v in versions if v.effective_from <= on), None)
    upcoming = [v for v in versions if v.effective_from > on]
    return TermsOverview(
        current=current,
        upcoming=sorted(upcoming, key=lambda v: v.effective_from),
        earlier=[v for v in versions if v.effective_from <= on and v != current],
    )


def verified_emails(user) -> list[str]:
    if not user.is_authenticated:
        return []
    return [
        email.lower()
        for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    ]


def organisations_for_user(user) -> QuerySet[Organisation]:
    """The organisations of which the user's verified email is an active contact."""
    emails = verified_emails(user)
    if not emails:
        return Organisation.objects.none()
    contact_of = ContactPerson.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=emails, is_active=True
    )
    return Organisation.objects.filter(pk__in=contact_of.values("organisation_id"))


def user_is_contact(user, organisation: Organisation | None) -> bool:
    return (
        organisation is not None
        and organisations_for_user(user).filter(pk=organisation.pk).exists()
    )


def acceptance_due(organisation: Organisation | None, terms: TermsVersion | None) -> bool:
    """Whether a notification for this organisation must accept `terms` (the current ones)."""
    if terms is None:
        return False
    if organisation is None:
        return True
    return not organisation.acceptances.filter(terms_version=terms).exists()


def waiting_registrations(oid: str) -> QuerySet[Registration]:
    """The organisation's notifications waiting for review or correction: at most one (a
    constraint); a queryset, so that a service can lock it."""
    return Registration.objects.filter(oid=oid, status__in=Registration.WAITING)


def waiting_registration(oid: str) -> Registration | None:
    """The organisation's notification waiting for review or correction, if any."""
    return waiting_registrations(oid).first()


def may_correct(user, registration: Registration) -> bool:
    """A notification staff sent back for changes is corrected by its sender or an active
    contact of the organisation: the form starts again from it, and the correction replaces it."""
    return registration.status == Registration.Status.CHANGES_REQUESTED and may_see_registration(
        user, registration
    )


def registrations_visible_to(user) -> QuerySet[Registration]:
    """The user's own notifications and those of organisations they are an active contact of
    (by OID: also those sent before the organisation joined)."""
    return Registration.objects.filter(
        Q(submitted_by=user) | Q(oid__in=organisations_for_user(user).values("oid"))
    ).select_related("terms_version", "organisation")


def may_see_registration(user, registration: Registration) -> bool:
    """Who may see a notification, and so withdraw or correct it while it waits."""
    return registrations_visible_to(user).filter(pk=registration.pk).exists()


def campaigns_running() -> QuerySet[AcceptanceCampaign]:
    """Campaigns that run: launched, and not yet closed by the lapse after their deadline."""
    return AcceptanceCampaign.objects.filter(launched_at__isnull=False, lapsed_at__isnull=True)


def campaigns_taking_late_targets(*, today: date | None = None) -> QuerySet[AcceptanceCampaign]:
    """The running campaigns whose deadline is ahead: organisations can still join them
    (`services.campaigns.campaign_targets_add`)."""
    today = today or timezone.localdate()
    return campaigns_running().filter(deadline__gt=today).select_related("terms_version")


def registrations_of_oid(oid: str) -> QuerySet[Registration]:
    """Every notification of an organisation, the latest first, with who sent it."""
    return (
        Registration.objects.filter(oid=oid)
        .select_related("submitted_by", "reviewed_by")
        .order_by("-submitted_at")
    )


def registration_by_token(user, token) -> Registration | None:
    """The user's notification sent with this submission token, if any."""
    if token is None:
        return None
    return Registration.objects.filter(submitted_by=user, submission_token=token).first()


def registration_emails(registration: Registration) -> QuerySet[OutgoingEmail]:
    """What a notification has sent: the receipt, the reviewers' notices, the decision."""
    return OutgoingEmail.objects.filter(registration=registration)


def staff_to_notify() -> QuerySet[User]:
    """Staff told of the portal's work (notifications to review, campaign summaries): the
    active ones with an email address."""
    return User.objects.filter(is_staff=True, is_active=True).exclude(email="").order_by("email")


def terms_announcements(terms_version: TermsVersion) -> QuerySet[OutgoingEmail]:
    """The emails that told members what changed in a version (`services.terms_publish`)."""
    return OutgoingEmail.objects.filter(
        kind=OutgoingEmail.Kind.TERMS_CHANGED, terms_version=terms_version
    )


def pending_registrations() -> QuerySet[Registration]:
    """The review queue, oldest first."""
    return Registration.objects.filter(status=Registration.Status.SUBMITTED).order_by(
        "submitted_at"
    )


def members_in_force() -> QuerySet[Organisation]:
    """Organisations that use MPASSid now: under the terms, or under an old agreement."""
    return Organisation.objects.filter(
        membership__in=[
            Organisation.Membership.TERMS_ACCEPTED,
            Organisation.Membership.LEGACY_CONTRACT,
        ]
    )


def campaign_candidates(campaign) -> QuerySet[Organisation]:
    """Who a campaign asks: legacy contract members, or every member; minus those who have
    already accepted its terms version."""
    if campaign.audience == campaign.Audience.LEGACY:
        candidates = Organisation.objects.filter(membership=Organisation.Membership.LEGACY_CONTRACT)
    else:
        candidates = members_in_force()
    return candidates.exclude(pk__in=_campaign_acceptances(campaign).values("organisation_id"))


def _campaign_acceptances(campaign) -> QuerySet[TermsAcceptance]:
    """Acceptances that answer a campaign: of its version, or of a later one."""
    return TermsAcceptance.objects.filter(
        terms_version__effective_from__gte=campaign.terms_version.effective_from
    )


def accepted_organisations(campaign) -> QuerySet:
    """Ids of the organisations that have answered a campaign by accepting."""
    return _campaign_acceptances(campaign).values("organisation_id")


def campaign_unanswered_targets(campaign) -> QuerySet:
    """Targets that have not accepted: still pending, or lapsed (they may accept late)."""
    return (
        CampaignTarget.objects.filter(campaign=campaign)
        .exclude(organisation_id__in=accepted_organisations(campaign))
        .select_related("organisation")
        .order_by("organisation__name_fi")
    )


def campaign_pending_targets(campaign) -> QuerySet:
    """Targets of a campaign, not yet lapsed, that have accepted neither its terms version nor
    a later one."""
    return campaign_unanswered_targets(campaign).filter(lapsed_at__isnull=True)


# The columns of a campaign's list of who has not accepted, with their contacts (a CSV).
PENDING_COLUMNS = [
    "oid",
    "name_fi",
    "membership",
    "contact_name",
    "contact_email",
    "contact_role",
    "contact_phone",
    "contact_language",
]


def campaign_pending_rows(campaign) -> Iterator[list[str]]:
    """The rows of the pending list: each active contact of each organisation that has not
    accepted, and an organisation without any contact on a row of its own."""
    organisations = [t.organisation for t in campaign_unanswered_targets(campaign)]
    contacts = (
        ContactPerson.objects.filter(organisation__in=organisations, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name_fi", "role", "email")
    )
    listed = set()
    for contact in contacts:
        organisation = contact.organisation
        listed.add(organisation.pk)
        yield [
            organisation.oid,
            organisation.name_fi,
            organisation.membership,
            contact.name,
            contact.email,
            contact.role,
            str(contact.phone or ""),
            contact.language,
        ]
    for organisation in organisations:
        if organisation.pk not in listed:
            yield [organisation.oid, organisation.name_fi, organisation.membership] + [""] * 5


def administrative_contacts_all() -> QuerySet[ContactPerson]:
    """Active administrative contacts: who is asked to act for an organisation."""
    return ContactPerson.objects.filter(
        is_active=True, role=ContactPerson.Role.ADMINISTRATIVE
    ).order_by("email")


def members_administrative_contacts() -> QuerySet[ContactPerson]:
    """Who is told of what concerns every member: the members' administrative contacts."""
    return (
        administrative_contacts_all()
        .filter(organisation__in=members_in_force())
        .select_related("organisation")
        .order_by("organisation__name_fi", "email")
    )


@dataclass(frozen=True)
class CampaignReport:
    targets: int
    accepted_on_time: int
    accepted_late: int
    pending: int
    lapsed: int
    reminders_per_step: list[tuple[str, int]]
    failed_reminders: list
    acceptances_by_day: list[tuple[date, int]]


def campaign_report(campaign) -> CampaignReport:
    """How a campaign stands, in a fixed number of queries whatever its size."""
    targets = dict(
        CampaignTarget.objects.filter(campaign=campaign).values_list("organisation_id", "lapsed_at")
    )
    accepted: dict[int, object] = {}
    for organisation_id, accepted_at in (
        _campaign_acceptances(campaign)
        .filter(organisation_id__in=list(targets))
        .order_by("-accepted_at")
        .values_list("organisation_id", "accepted_at")
    ):
        accepted[organisation_id] = accepted_at  # the earliest wins
    accepted_days = sorted(timezone.localdate(at) for at in accepted.values())
    on_time = sum(1 for day in accepted_days if day <= campaign.deadline)
    lapsed = sum(1 for org, at in targets.items() if at is not None and org not in accepted)
    steps = dict(
        CampaignMessage.objects.filter(campaign=campaign)
        .values_list("step")
        .annotate(count=Count("pk"))
        .values_list("step", "count")
    )
    order = [
        CampaignMessage.INVITATION,
        *[str(o) for o in campaign.reminder_offsets],
        CampaignMessage.LAPSED,
    ]
    by_day: dict[date, int] = {}
    for day in accepted_days:
        by_day[day] = by_day.get(day, 0) + 1
    return CampaignReport(
        targets=len(targets),
        accepted_on_time=on_time,
        accepted_late=len(accepted_days) - on_time,
        pending=len(targets) - len(accepted) - lapsed,
        lapsed=lapsed,
        reminders_per_step=[(step, steps.get(step, 0)) for step in order],
        failed_reminders=list(
            CampaignMessage.objects.filter(
                campaign=campaign, email__status="failed"
            ).select_related("organisation", "email")
        ),
        acceptances_by_day=sorted(by_day.items()),
    )


def invitation_grants_contacts(invitation, user) -> bool:
    """An invitation shows the organisation's contacts to the person it was sent to (signed in
    with that verified address), while the organisation is a target of that campaign."""
    return (
        invitation.email in verified_emails(user)
        and CampaignTarget.objects.filter(
            campaign_id=invitation.campaign_id, organisation_id=invitation.organisation_id
        ).exists()
    )


def registry_entry(oid: str) -> RegistryEntry | None:
    """What OPH's organisation registry last said about `oid`; None if it was never asked."""
    return RegistryEntry.objects.filter(oid=oid).first()


def organisations_with_registry_state(
    organisations: QuerySet[Organisation] | None = None,
) -> QuerySet[Organisation]:
    """The organisations, each with its `registry_state` (a RegistryState value; "not
    verified" when never asked), in the same query."""
    organisations = Organisation.objects.all() if organisations is None else organisations
    entry = RegistryEntry.objects.with_state().filter(oid=OuterRef("oid"))
    return organisations.annotate(
        registry_state=Coalesce(
            Subquery(entry.values("registry_state")[:1]),
            Value(RegistryState.NOT_VERIFIED.value),
        )
    )


def members_closed_in_registry() -> QuerySet[Organisation]:
    """Members in force that the registry has closed (PASSIIVINEN or POISTETTU) or given a
    closing date: the staff list "members closed in the registry". Nothing about their
    membership changes by itself; staff decide."""
    return organisations_with_registry_state(members_in_force()).filter(
        registry_state=RegistryState.CLOSED
    )


def registry_check_last_finished(*, before: RegistryCheck | None = None) -> RegistryCheck | None:
    """The latest weekly registry check that finished (other than `before`)."""
    checks = RegistryCheck.objects.filter(finished_at__isnull=False)
    if before is not None:
        checks = checks.exclude(pk=before.pk)
    return checks.order_by("-finished_at").first()


# What a change of the registry's data means to staff, compared between two versions.
REGISTRY_COMPARED = ("name_fi", "name_sv", "name_en", "business_id")


@dataclass(frozen=True)
class MemberInRegistry:
    """A member and two versions of what the registry said of it: before and now."""

    organisation: Organisation
    now: Any  # a RegistryEntry history row
    before: Any | None  # None when the registry was first asked in between

    @property
    def status(self) -> str:
        """The registry's status now, in the reader's language ("" when it gives none)."""
        return status_label(self.now.status)

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """(field's name, before, now) of the names and business ID that changed."""
        if self.before is None:
            return []
        return [
            (RegistryEntry._meta.get_field(name).verbose_name, old, new)
            for name in REGISTRY_COMPARED
            if (old := getattr(self.before, name)) != (new := getattr(self.now, name))
        ]


@dataclass(frozen=True)
class RegistryNews:
    """What the registry began to say about members between two moments."""

    closed: list[MemberInRegistry]  # became PASSIIVINEN or POISTETTU, or got a closing date
    no_longer_found: list[MemberInRegistry]
    changed: list[MemberInRegistry]  # a new name or business ID

    def __bool__(self) -> bool:
        return bool(self.closed or self.no_longer_found or self.changed)


def registry_news(*, since: datetime | None, until: datetime) -> RegistryNews:
    """Members whose registry data changed after `since` (ever, if None) up to `until`, from
    the snapshots' history: whoever asked (the weekly check, a reviewer, a notification), a
    change is told once. Three queries, growing with the changes, not the members."""
    members = members_in_force()
    recent = RegistryEntry.history.filter(oid__in=members.values("oid"), history_date__lte=until)
    if since is not None:
        recent = recent.filter(history_date__gt=since)
    now = {row.oid: row for row in recent.order_by("oid", "history_date", "history_id")}
    before = {}
    if since is not None and now:
        earlier = RegistryEntry.history.filter(oid__in=list(now), history_date__lte=since)
        before = {row.oid: row for row in earlier.order_by("oid", "history_date", "history_id")}
    organisations = {o.oid: o for o in members.filter(oid__in=list(now)).order_by("name_fi")}
    news = RegistryNews(closed=[], no_longer_found=[], changed=[])
    for oid, organisation in organisations.items():
        member = MemberInRegistry(organisation, now[oid], before.get(oid))
        if _closing(member.now) and not _closing(member.before):
            news.closed.append(member)
        if member.before is None or not member.before.found:
            continue
        if not member.now.found:
            news.no_longer_found.append(member)
        elif member.changes:
            news.changed.append(member)
    return news


def _closing(version) -> bool:
    """Closed or closing in a version of an entry (`RegistryEntry.state` CLOSED)."""
    return version is not None and version.found and is_closing(version.status, version.closed_on)
