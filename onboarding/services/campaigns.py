"""Acceptance campaigns: launch with invitations, remind on schedule, lapse after the deadline."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from onboarding import emails, register, selectors
from onboarding.invitations import invitation_url
from onboarding.models import (
    AcceptanceCampaign,
    CampaignMessage,
    CampaignTarget,
    ContactPerson,
    Organisation,
    TermsAcceptance,
)

logger = logging.getLogger(__name__)
MAX_OFFSET_DAYS = 365
NAMED_IN_ERRORS = 5  # organisations a message names; it counts them all


@dataclass(frozen=True)
class PlannedMessage:
    """A campaign message that is due: sent now, or only listed in a dry run."""

    campaign_id: int
    organisation: str
    step: str
    recipient: str


def campaign_create(
    *, terms_version, deadline: date, audience: str, offsets: list[int] | None = None
) -> AcceptanceCampaign:
    campaign = AcceptanceCampaign(terms_version=terms_version, deadline=deadline, audience=audience)
    if offsets is not None:
        campaign.reminder_offsets = sorted({int(o) for o in offsets}, reverse=True)
    campaign_validate(campaign)
    campaign.save()
    return campaign


def campaign_validate(campaign: AcceptanceCampaign) -> None:
    """The rules of a campaign not yet launched; a ValidationError says what is wrong."""
    if not campaign.terms_version.is_published:
        raise ValidationError(_("Only a published terms version can be asked for."))
    campaign_check_deadline(campaign.deadline)
    if not campaign.reminder_offsets:
        raise ValidationError(_("Give at least one reminder day."))
    if any(not 1 <= o <= MAX_OFFSET_DAYS for o in campaign.reminder_offsets):
        raise ValidationError(
            _("Reminder days must be between 1 and %(max)s.") % {"max": MAX_OFFSET_DAYS}
        )
    campaign.full_clean()
    _check_no_overlap(campaign, selectors.campaign_candidates(campaign))


def campaign_check_deadline(deadline: date, *, today: date | None = None) -> None:
    """A campaign's deadline is ahead of `today` (today): there is time left to answer."""
    if deadline <= (today or timezone.localdate()):
        raise ValidationError(_("The deadline must be in the future."), code="deadline_passed")


def campaign_start(
    *, terms_version, deadline: date, audience: str, offsets: list[int] | None = None, by=None
) -> tuple[AcceptanceCampaign, int]:
    """Create and launch at once (the shell's way): a campaign that cannot launch is not kept,
    so the same command can be run again once the reason is gone."""
    today = timezone.localdate()
    with transaction.atomic():
        created = campaign_create(
            terms_version=terms_version, deadline=deadline, audience=audience, offsets=offsets
        )
        campaign = _fix_targets(campaign_id=created.pk, by=by, today=today)
    _send_missing_invitations(campaign, today)
    return campaign, campaign.targets.count()


def campaign_launch(*, campaign_id: int, by=None, today: date | None = None) -> int:
    """Fix the campaign's targets and invite each target's administrative contacts with a
    personal link. Returns the number of targets.

    The targets are committed first and the invitations a batch of organisations to a
    transaction; launching again (or the next daily run) sends any invitation a crash left out.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        campaign = _fix_targets(campaign_id=campaign_id, by=by, today=today)
    _send_missing_invitations(campaign, today)
    return campaign.targets.count()


def _fix_targets(*, campaign_id: int, by, today: date) -> AcceptanceCampaign:
    """The launch itself, inside the caller's transaction: under the version's campaign locks,
    check the rules once more (another launch may have committed meanwhile) and fix the
    targets."""
    campaign = _lock_campaigns_of_version(campaign_id)
    if not campaign.is_launched:
        _check_launchable(campaign, today)
        candidates = selectors.campaign_candidates(campaign)
        _check_no_overlap(campaign, candidates)
        CampaignTarget.objects.bulk_create(
            [CampaignTarget(campaign=campaign, organisation=o) for o in candidates]
        )
        campaign.launched_at = timezone.now()
        campaign.launched_by = by
        campaign.save(update_fields=["launched_at", "launched_by"])
    return campaign


def _lock_campaigns_of_version(campaign_id: int) -> AcceptanceCampaign:
    """Lock the campaign and every other campaign of its terms version, in id order, and return
    the campaign: launches and additions of one version take turns, so two of them cannot both
    pass the overlap check.

    No lock on the terms version: it would hold up every approval that records an acceptance of
    it (and could deadlock with one). NO KEY UPDATE, so that reminders being written for those
    campaigns meanwhile (rows that refer to them) are not held up either."""
    version_id = AcceptanceCampaign.objects.values_list("terms_version_id", flat=True).get(
        pk=campaign_id
    )
    locked = (
        AcceptanceCampaign.objects.select_for_update(no_key=True, of=("self",))
        .select_related("terms_version")
        .filter(terms_version_id=version_id)
        .order_by("pk")
    )
    return next(campaign for campaign in locked if campaign.pk == campaign_id)


@dataclass(frozen=True)
class Overlap:
    """A running campaign that already asks some of the same organisations (by name)."""

    campaign: AcceptanceCampaign
    names: list[str]


def campaign_overlaps(campaign: AcceptanceCampaign, organisations: QuerySet) -> list[Overlap]:
    """The running campaigns that ask some of `organisations` to accept the campaign's terms
    version by another deadline, with those organisations."""
    others = (
        selectors.campaigns_running()
        .filter(terms_version_id=campaign.terms_version_id)
        .exclude(deadline=campaign.deadline)
    )
    if campaign.pk is not None:
        others = others.exclude(pk=campaign.pk)
    asked = (
        CampaignTarget.objects.filter(
            campaign__in=others, lapsed_at__isnull=True, organisation__in=organisations
        )
        .select_related("campaign__terms_version", "organisation")
        .order_by("campaign__deadline", "campaign_id", "organisation__name_fi")
    )
    overlaps: dict[int, Overlap] = {}
    for target in asked:
        overlap = overlaps.setdefault(target.campaign_id, Overlap(target.campaign, []))
        overlap.names.append(target.organisation.name_fi)
    return list(overlaps.values())


def first_names(names: list[str]) -> str:
    """Organisations as a message names them: the first few, and how many more."""
    shown = ", ".join(names[:NAMED_IN_ERRORS])
    more = len(names) - NAMED_IN_ERRORS
    if more <= 0:
        return shown
    return ngettext("%(names)s and %(more)d other", "%(names)s and %(more)d others", more) % {
        "names": shown,
        "more": more,
    }


def _check_no_overlap(campaign: AcceptanceCampaign, organisations: QuerySet) -> None:
    """An organisation has one deadline for a terms version: a campaign cannot ask by another
    deadline what a running campaign already asks of it."""
    errors = []
    for overlap in campaign_overlaps(campaign, organisations):
        count = len(overlap.names)
        errors.append(
            ngettext(
                "The running campaign “%(campaign)s” already asks %(count)d organisation of "
                "these to accept version %(version)s by %(deadline)s: %(names)s. An "
                "organisation has one deadline for a version: wait until that campaign has "
                "closed.",
                "The running campaign “%(campaign)s” already asks %(count)d organisations of "
                "these to accept version %(version)s by %(deadline)s: %(names)s. An "
                "organisation has one deadline for a version: wait until that campaign has "
                "closed.",
                count,
            )
            % {
                "campaign": overlap.campaign,
                "count": count,
                "version": overlap.campaign.terms_version.version,
                "deadline": date_format(overlap.campaign.deadline),
                "names": first_names(overlap.names),
            }
        )
    if errors:
        raise ValidationError(errors, code="overlap")


@dataclass(frozen=True)
class LateTargets:
    """Organisations added to a running campaign after its launch (in a dry run: that would
    be), by name."""

    campaign: AcceptanceCampaign
    names: list[str]

    @property
    def first_names(self) -> str:
        return first_names(self.names)


def campaign_check_takes_late_targets(campaign: AcceptanceCampaign, today: date) -> None:
    """Organisations join a campaign after its launch only while it runs and its deadline is
    ahead: before the launch, the launch asks everyone; after the deadline, there is no time
    left to answer."""
    if not campaign.is_launched:
        raise ValidationError(
            _(
                "Campaign “%(campaign)s” has not been launched: its launch will invite every "
                "organisation it asks."
            )
            % {"campaign": campaign}
        )
    if campaign.lapsed_at is not None or campaign.deadline <= today:
        raise ValidationError(
            _(
                "Campaign “%(campaign)s” takes no more organisations: its deadline, %(date)s, "
                "is not in the future."
            )
            % {"campaign": campaign, "date": date_format(campaign.deadline)}
        )


def campaign_targets_add(
    *,
    campaign_id: int,
    oids: Collection[str] | None = None,
    today: date | None = None,
    dry_run: bool = False,
) -> LateTargets:
    """Add to a running campaign the organisations it would ask if it were launched today but
    does not ask (legacy members imported since its launch), or only those of them with
    `oids`, and invite them at once.

    They then get the reminder steps still ahead; a step whose day has passed is covered by
    the invitation (see `_targets_owed`). An organisation that another running campaign of the
    same version asks is left to that one: one deadline per version. Adding again adds and
    sends nothing twice. With `dry_run`, nothing is written: the names are those that would
    join.
    """
    today = today or timezone.localdate()
    if dry_run:
        campaign = AcceptanceCampaign.objects.select_related("terms_version").get(pk=campaign_id)
        campaign_check_takes_late_targets(campaign, today)
        return LateTargets(campaign, [o.name_fi for o in _late_candidates(campaign, oids)])
    with transaction.atomic():
        campaign = _lock_campaigns_of_version(campaign_id)
        campaign_check_takes_late_targets(campaign, today)
        organisations = list(_late_candidates(campaign, oids))
        CampaignTarget.objects.bulk_create(
            [CampaignTarget(campaign=campaign, organisation=o) for o in organisations]
        )
    _send_missing_invitations(campaign, today)
    return LateTargets(campaign, [o.name_fi for o in organisations])


def _late_candidates(
    campaign: AcceptanceCampaign, oids: Collection[str] | None
) -> QuerySet[Organisation]:
    """Who the campaign would ask today, minus who this or another running campaign of the
    same version asks already."""
    asked = CampaignTarget.objects.filter(
        campaign__in=selectors.campaigns_running().filter(
            terms_version_id=campaign.terms_version_id
        )
    )
    candidates = selectors.campaign_candidates(campaign).exclude(
        pk__in=asked.values("organisation_id")
    )
    if oids is not None:
        candidates = candidates.filter(oid__in=list(oids))
    return candidates.order_by("name_fi")


def _check_launchable(campaign: AcceptanceCampaign, today: date) -> None:
    campaign_check_deadline(campaign.deadline, today=today)
    if campaign.terms_version != selectors.current_terms(on=today):
        raise ValidationError(
            _(
                "Version %(version)s is not the version in force, so it cannot be accepted yet: "
                "launch the campaign once it takes effect (%(date)s)."
            )
            % {
                "version": campaign.terms_version.version,
                "date": date_format(campaign.terms_version.effective_from),
            }
        )


def _send_missing_invitations(
    campaign: AcceptanceCampaign, today: date, *, dry_run: bool = False
) -> list[PlannedMessage]:
    invited = CampaignMessage.objects.filter(
        campaign=campaign, organisation=OuterRef("organisation"), step=CampaignMessage.INVITATION
    )
    not_invited = selectors.campaign_pending_targets(campaign).filter(~Exists(invited))
    return _plan_or_send(campaign, not_invited, CampaignMessage.INVITATION, dry_run, today)


def due_step(campaign: AcceptanceCampaign, today: date) -> str | None:
    """The most recent reminder step due on `today`, if any.

    Only the latest due step counts, so a scheduler that was down for days sends one reminder,
    not a burst; a step that fell due before the launch is covered by the invitation.
    """
    launched_on = timezone.localdate(campaign.launched_at)
    due = [
        offset
        for offset in campaign.reminder_offsets
        if launched_on < campaign.deadline - timedelta(days=offset) <= today
    ]
    return str(min(due)) if due else None


class CampaignsFailed(Exception):
    """Some campaigns could not send what they owed; the others did. Raised after the run."""

    def __init__(self, failures: dict[int, Exception], planned: list[PlannedMessage]):
        self.failures, self.planned = failures, planned
        super().__init__("; ".join(f"campaign {pk}: {error!r}" for pk, error in failures.items()))


def reminders_send_due(*, today: date | None = None, dry_run: bool = False) -> list[PlannedMessage]:
    """Send what the open campaigns owe on `today`: the due reminder step to every target
    that has not accepted, and after the deadline the lapse (see `campaign_lapse`).

    One broken campaign does not stop the others; after the run, CampaignsFailed names it
    (the task then fails where staff see it, and the command exits non-zero)."""
    today = today or timezone.localdate()
    planned: list[PlannedMessage] = []
    failures: dict[int, Exception] = {}
    for campaign in selectors.campaigns_running().select_related("terms_version"):
        try:
            planned += _campaign_due(campaign, today, dry_run)
        except Exception as error:
            logger.exception("Campaign %s: sending what is due on %s failed", campaign.pk, today)
            failures[campaign.pk] = error
    if failures:
        raise CampaignsFailed(failures, planned)
    return planned


def _campaign_due(campaign: AcceptanceCampaign, today: date, dry_run: bool) -> list:
    if today > campaign.deadline:
        return campaign_lapse(campaign_id=campaign.pk, today=today, dry_run=dry_run)
    planned = _send_missing_invitations(campaign, today, dry_run=dry_run)
    step = due_step(campaign, today)
    if step is not None:
        planned += _plan_or_send(campaign, _targets_owed(campaign, step), step, dry_run, today)
    return planned


def _targets_owed(campaign: AcceptanceCampaign, step: str) -> QuerySet[CampaignTarget]:
    """The pending targets a reminder step is owed to: those invited before the step's day.
    A step that fell due before a target's invitation (before the launch, or before an
    organisation added later joined) is covered by the invitation; one not yet invited gets
    its invitation first, and the steps after it."""
    invited_before = CampaignMessage.objects.filter(
        campaign=campaign,
        organisation=OuterRef("organisation"),
        step=CampaignMessage.INVITATION,
        created_at__lt=step_starts_at(campaign.deadline, step),
    )
    return selectors.campaign_pending_targets(campaign).filter(Exists(invited_before))


def step_starts_at(deadline: date, step: str) -> datetime:
    """The start (midnight, Helsinki time) of the day a reminder step `step` days before
    `deadline` falls due."""
    step_day = deadline - timedelta(days=int(step))
    return timezone.make_aware(datetime.combine(step_day, time.min))


def _plan_or_send(
    campaign, targets: QuerySet[CampaignTarget], step: str, dry_run: bool, today: date
) -> list[PlannedMessage]:
    """Write (or with `dry_run` only list) the step's messages to `targets`, a batch of
    organisations at a time (CAMPAIGN_BATCH_SIZE): the database is asked a fixed number of
    times per batch, however many organisations the batch has."""
    organisation_ids = list(targets.values_list("organisation_id", flat=True))
    if dry_run:
        return [
            PlannedMessage(campaign.pk, organisation.name_fi, step, recipient)
            for organisation, _contact, recipient in _unsent(campaign, organisation_ids, step)
        ]
    return in_batches(organisation_ids, lambda batch: _send_batch(campaign, batch, step, today))


def in_batches(organisation_ids: list[int], write: Callable[[list[int]], list]) -> list:
    """`write` each batch of CAMPAIGN_BATCH_SIZE organisations (it makes its own transaction).

    A batch that fails is written again one organisation at a time, so that one organisation's
    error holds back only its own messages; that error is then raised, and the run stops there
    (CampaignsFailed names it), as it did when every organisation had a transaction of its own.
    """
    size = settings.CAMPAIGN_BATCH_SIZE
    written: list = []
    for start in range(0, len(organisation_ids), size):
        batch = organisation_ids[start : start + size]
        try:
            written += write(batch)
        except Exception:
            if len(batch) == 1:
                raise
            written += _one_at_a_time(batch, write)
    return written


def _one_at_a_time(batch: list[int], write: Callable[[list[int]], list]) -> list:
    written, errors = [], []
    for organisation_id in batch:
        try:
            written += write([organisation_id])
        except Exception as error:  # the others are written; the first error is raised after
            errors.append(error)
    if errors:
        raise errors[0]
    return written


def _unsent(campaign, organisation_ids: list[int], step: str):
    """(organisation, contact, address) for each of the step's recipients in the organisations
    of `organisation_ids` who has not been sent it yet, in the order of the ids."""
    if step == CampaignMessage.LAPSED:
        contacts = ContactPerson.objects.filter(is_active=True)
    else:
        contacts = selectors.administrative_contacts_all()
    by_organisation: dict[int, list[ContactPerson]] = {}
    for contact in contacts.filter(organisation_id__in=organisation_ids).select_related(
        "organisation"
    ):
        by_organisation.setdefault(contact.organisation_id, []).append(contact)
    sent = set(
        CampaignMessage.objects.filter(
            campaign=campaign, organisation_id__in=organisation_ids, step=step
        ).values_list("organisation_id", "recipient")
    )
    for _organisation_id, contact, recipient in addressed_once(
        organisation_ids, by_organisation, sent
    ):
        yield contact.organisation, contact, recipient


def addressed_once(
    organisation_ids: list[int],
    contacts: dict[int, list[ContactPerson]],
    sent: set[tuple[int, str]],
) -> Iterator[tuple[int, ContactPerson, str]]:
    """(organisation id, contact, address) for the `contacts` of each organisation, in the
    order of the ids and then of the addresses: each address once per organisation, and none
    that `sent` ((organisation id, address) pairs) has already."""
    sent = set(sent)
    for organisation_id in organisation_ids:
        for contact in sorted(contacts.get(organisation_id, []), key=_by_address):
            recipient = contact.email.lower()
            if (organisation_id, recipient) not in sent:
                sent.add((organisation_id, recipient))
                yield organisation_id, contact, recipient


def _by_address(contact: ContactPerson) -> tuple[str, bool]:
    """Contacts in the order of their addresses; where one person is two contacts, the
    administrative one first (its name and language are the ones the message uses)."""
    return contact.email.lower(), contact.role != ContactPerson.Role.ADMINISTRATIVE


def _lock_targets(
    campaign, organisation_ids: list[int]
) -> tuple[dict[int, CampaignTarget], dict[int, Organisation]]:
    """Lock the batch's targets, then their organisations (approvals lock an organisation too),
    each in id order: two workers or two beats take turns, and an acceptance recorded
    meanwhile is seen. Returns both by organisation id."""
    targets = CampaignTarget.objects.select_for_update().filter(
        campaign=campaign, organisation_id__in=organisation_ids
    )
    organisations = Organisation.objects.select_for_update().filter(pk__in=organisation_ids)
    return (
        {target.organisation_id: target for target in targets.order_by("pk")},
        {organisation.pk: organisation for organisation in organisations.order_by("pk")},
    )


@transaction.atomic
def _send_batch(campaign, organisation_ids: list[int], step: str, today: date) -> list:
    """Claim and write one step's messages to a batch of targets that have still not
    accepted, in one transaction; for the lapse notice, the targets lapse in it too."""
    targets, organisations = _lock_targets(campaign, organisation_ids)
    accepted = set(
        selectors.accepted_organisations(campaign)
        .filter(organisation_id__in=organisation_ids)
        .values_list("organisation_id", flat=True)
    )
    owed = [pk for pk in organisation_ids if pk in targets and pk not in accepted]
    if step == CampaignMessage.LAPSED:
        owed = [pk for pk in owed if targets[pk].lapsed_at is None]
        _lapse(campaign, [organisations[pk] for pk in owed])
    return _write_step(campaign, owed, step, today)


def _lapse(campaign, organisations: list[Organisation]) -> None:
    """The targets lapse, and so do the organisations' memberships (in their history, and in
    the register)."""
    if not organisations:
        return
    now = timezone.now()
    CampaignTarget.objects.filter(campaign=campaign, organisation__in=organisations).update(
        lapsed_at=now
    )
    for organisation in organisations:
        organisation.membership = Organisation.Membership.LAPSED
        organisation.updated_at = now
    bulk_update_with_history(
        organisations, Organisation, ["membership", "updated_at"], default_date=now
    )
    transaction.on_commit(register.invalidate)


def _write_step(campaign, organisation_ids: list[int], step: str, today: date) -> list:
    """Write the step's messages to whoever has not had them, under `_lock_targets`'s locks:
    the unique CampaignMessage row makes a step once per recipient; the email is written in the
    same transaction as its claim."""
    earlier = (
        _earlier_acceptances(campaign, organisation_ids)
        if step == CampaignMessage.INVITATION
        else {}
    )
    recipients = [
        emails.CampaignRecipient(
            organisation=organisation,
            contact=contact,
            link=invitation_url(
                organisation_id=organisation.pk,
                campaign_id=campaign.pk,
                email=recipient,
                language=contact.language,
            ),
            earlier_acceptance=earlier.get(organisation.pk),
        )
        for organisation, contact, recipient in _unsent(campaign, organisation_ids, step)
    ]
    written = emails.campaign_messages(
        campaign=campaign, step=step, today=today, recipients=recipients
    )
    CampaignMessage.objects.bulk_create(
        CampaignMessage(
            campaign=campaign,
            organisation=recipient.organisation,
            step=step,
            recipient=email.to,
            email=email,
        )
        for recipient, email in zip(recipients, written, strict=True)
    )
    return [
        PlannedMessage(campaign.pk, recipient.organisation.name_fi, step, email.to)
        for recipient, email in zip(recipients, written, strict=True)
    ]


def _earlier_acceptances(campaign, organisation_ids: list[int]) -> dict[int, TermsAcceptance]:
    """Each organisation's latest acceptance of an earlier version, by organisation id: with
    one, the invitation asks to accept a new version; without, a first acceptance."""
    latest: dict[int, TermsAcceptance] = {}
    acceptances = (
        TermsAcceptance.objects.filter(
            organisation_id__in=organisation_ids,
            terms_version__effective_from__lt=campaign.terms_version.effective_from,
        )
        .select_related("terms_version")
        .order_by("organisation_id", "-terms_version__effective_from", "-accepted_at")
    )
    for acceptance in acceptances:
        latest.setdefault(acceptance.organisation_id, acceptance)
    return latest


def campaign_lapse(
    *, campaign_id: int, today: date | None = None, dry_run: bool = False
) -> list[PlannedMessage]:
    """The day after the deadline: targets without an acceptance become lapsed, their contacts
    get one notice, and staff one summary. A lapsed organisation can still accept later.

    Each batch of targets lapses in a transaction of its own, and the campaign closes (with the
    summary) in the last: a run cut short is finished by the next one."""
    today = today or timezone.localdate()
    campaign = AcceptanceCampaign.objects.select_related("terms_version").get(pk=campaign_id)
    if today <= campaign.deadline or campaign.lapsed_at is not None:
        return []
    planned = _plan_or_send(
        campaign,
        selectors.campaign_pending_targets(campaign),
        CampaignMessage.LAPSED,
        dry_run,
        today,
    )
    if not dry_run:
        _close(campaign)
    return planned


@transaction.atomic
def _close(campaign) -> None:
    """The campaign has lapsed, and staff get its summary: once."""
    locked = AcceptanceCampaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.lapsed_at is not None:
        return
    locked.lapsed_at = timezone.now()
    locked.save(update_fields=["lapsed_at"])
    # Every target lapsed by this run or an earlier one cut short, and still lapsed.
    lapsed = CampaignTarget.objects.filter(campaign=campaign, lapsed_at__isnull=False)
    lapsed_names = list(
        lapsed.exclude(organisation__in=selectors.accepted_organisations(campaign)).values_list(
            "organisation__name_fi", flat=True
        )
    )
    emails.campaign_summary(locked, lapsed_names)
