"""Contacts kept current: once a year every member in force is asked, by its administrative
contacts, to confirm its contact persons; unanswered requests are reminded on the campaigns'
schedule; a contact whose address bounced permanently is shown as needing a replacement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding import emails, selectors
from onboarding.invitations import link_url, read_link, sign_link
from onboarding.models import (
    ContactPerson,
    ContactsConfirmationMessage,
    ContactsConfirmationRound,
    ContactsConfirmationTarget,
    Organisation,
    OutgoingEmail,
    Registration,
)
from onboarding.models.confirmations import ANSWER_DAYS
from onboarding.notification_data import REQUIRED_ROLES
from onboarding.services.campaigns import (
    PlannedMessage,
    addressed_once,
    due_step,
    in_batches,
    step_starts_at,
)

SALT = "onboarding.contacts_confirmation"
REQUEST = ContactsConfirmationMessage.REQUEST


# Personal links ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmationLink:
    """What a personal link names: the round, the organisation and the contact it was sent to."""

    round_id: int
    organisation_id: int
    email: str


def confirmation_url(*, link: ConfirmationLink, language: str) -> str:
    payload = {"r": link.round_id, "o": link.organisation_id, "e": link.email.lower()}
    token = sign_link(payload, salt=SALT)
    return link_url("onboarding:confirm_contacts", token, language=language)


def read_confirmation_link(token: str) -> ConfirmationLink | None:
    """The link, or None for a forged or expired one (or one signed for something else)."""
    value = read_link(token, salt=SALT)
    try:
        return ConfirmationLink(round_id=value["r"], organisation_id=value["o"], email=value["e"])
    except (KeyError, TypeError):
        return None


# Reads ------------------------------------------------------------------------------------------

# A 5xx answer about the recipient: the server refused the address itself, or answered with an
# address or mailbox status (5.1.x, 5.2.x). Failures about our relay or a message given up
# after temporary refusals do not count (see `services.outgoing_emails._is_permanent`).
PERMANENT_BOUNCE = Q(status=OutgoingEmail.Status.FAILED) & (
    Q(last_error__regex=r"^SMTPRecipientsRefused: .*\(5[0-9]{2}, ")
    | Q(last_error__regex=r"^SMTP(Data|Response)\w*: \(5[0-9]{2}, b?['\"]5\.[12]\.")
)


def with_bounce(contacts: QuerySet[ContactPerson]) -> QuerySet[ContactPerson]:
    """Contacts annotated with `bounced_at`: when mail to their address last bounced
    permanently, unless a later email to it was delivered (null: no such bounce)."""
    delivered_later = OutgoingEmail.objects.filter(
        to__iexact=OuterRef("to"),
        status=OutgoingEmail.Status.SENT,
        sent_at__gt=OuterRef("last_attempt_at"),
    )
    bounces = (
        OutgoingEmail.objects.filter(PERMANENT_BOUNCE, to__iexact=OuterRef("email"))
        .filter(~Exists(delivered_later))
        .order_by("-last_attempt_at")
        .values("last_attempt_at")[:1]
    )
    return contacts.annotate(bounced_at=Subquery(bounces))


def contacts_needing_replacement(organisation: Organisation) -> list[ContactPerson]:
    """The organisation's active contacts whose address bounced permanently."""
    active = organisation.contacts.filter(is_active=True)
    return list(with_bounce(active).filter(bounced_at__isnull=False).order_by("role", "name"))


def contact_roles_missing(organisation: Organisation) -> list[str]:
    """The required roles (administrative, technical) without an active contact whose address
    works: a member must keep one of each."""
    working = with_bounce(organisation.contacts.filter(is_active=True)).filter(
        bounced_at__isnull=True
    )
    held = set(working.values_list("role", flat=True))
    return [str(role.label) for role in REQUIRED_ROLES if role.value not in held]


def _notified_since_start() -> QuerySet[Registration]:
    """A notification of the target's organisation sent after its round began: the change
    goes through review, and the request is answered."""
    return Registration.objects.filter(
        oid=OuterRef("organisation__oid"), submitted_at__gte=OuterRef("round__launched_at")
    )


def confirmation_targets() -> QuerySet[ContactsConfirmationTarget]:
    """Targets with `notified_at` (the first notification since the round began), `answered`
    and `last_confirmed_at` (the organisation's latest "still correct" in any round)."""
    last_confirmed = ContactsConfirmationTarget.objects.filter(
        organisation=OuterRef("organisation"), confirmed_at__isnull=False
    ).order_by("-confirmed_at")
    return ContactsConfirmationTarget.objects.annotate(
        notified_at=Subquery(
            _notified_since_start().order_by("submitted_at").values("submitted_at")[:1]
        ),
        answered=ExpressionWrapper(
            Q(confirmed_at__isnull=False) | Exists(_notified_since_start()),
            output_field=BooleanField(),
        ),
        last_confirmed_at=Subquery(last_confirmed.values("confirmed_at")[:1]),
    )


def with_contact_bounced(
    targets: QuerySet[ContactsConfirmationTarget],
) -> QuerySet[ContactsConfirmationTarget]:
    """Targets annotated with `contact_bounced`: an active contact of the organisation needs a
    replacement (its address bounced permanently)."""
    bounced = with_bounce(
        ContactPerson.objects.filter(organisation=OuterRef("organisation"), is_active=True)
    ).filter(bounced_at__isnull=False)
    return targets.annotate(contact_bounced=Exists(bounced))


def unanswered_targets(confirmation_round) -> QuerySet[ContactsConfirmationTarget]:
    """Members still in force that the round asked and that have not answered."""
    return (
        confirmation_targets()
        .filter(round=confirmation_round, answered=False)
        .filter(organisation__in=selectors.members_in_force())
        .select_related("organisation")
        .order_by("organisation__name_fi")
    )


def _link_contact(link: ConfirmationLink) -> ContactPerson | None:
    """The link's contact, while still an active administrative contact of its organisation."""
    return (
        selectors.administrative_contacts_all()
        .filter(organisation_id=link.organisation_id, email__iexact=link.email)
        .first()
    )


@dataclass(frozen=True)
class ConfirmationPage:
    """What a personal link shows: the organisation's contacts and what needs doing."""

    target: ContactsConfirmationTarget
    contact: ContactPerson
    contacts: list[ContactPerson]
    missing_roles: list[str]

    @property
    def organisation(self) -> Organisation:
        return self.target.organisation

    @property
    def needing_replacement(self) -> list[ContactPerson]:
        return [c for c in self.contacts if c.bounced_at is not None]


def confirmation_page(link: ConfirmationLink | None) -> ConfirmationPage | None:
    """The page of a link, or None when it does not open one: no such round or target, a later
    round has begun, or the person is no longer an administrative contact."""
    if link is None:
        return None
    latest = ContactsConfirmationRound.objects.order_by("-year").first()
    if latest is None or latest.pk != link.round_id:
        return None
    target = (
        ContactsConfirmationTarget.objects.select_related("round", "organisation")
        .filter(round_id=link.round_id, organisation_id=link.organisation_id)
        .first()
    )
    contact = target and _link_contact(link)
    if contact is None:
        return None
    organisation = target.organisation
    contacts = with_bounce(organisation.contacts.filter(is_active=True)).order_by("role", "name")
    return ConfirmationPage(
        target=target,
        contact=contact,
        contacts=list(contacts),
        missing_roles=contact_roles_missing(organisation),
    )


# Writes -----------------------------------------------------------------------------------------


@transaction.atomic
def contacts_confirm(*, link: ConfirmationLink) -> ContactsConfirmationTarget:
    """ "Still correct": recorded once per round with who (the contact the link was sent to)
    and when; the round then sends that organisation no more reminders. Confirming again
    changes nothing."""
    target = ContactsConfirmationTarget.objects.select_for_update().get(
        round_id=link.round_id, organisation_id=link.organisation_id
    )
    contact = _link_contact(link)
    if contact is None:
        raise ValidationError(_("This link's person is no longer an administrative contact."))
    if target.confirmed_at is None:
        target.confirmed_at = timezone.now()
        target.confirmed_by_email = contact.email.lower()
        target.confirmed_by_name = contact.name
        target.full_clean()
        target.save(update_fields=["confirmed_at", "confirmed_by_email", "confirmed_by_name"])
    return target


def contacts_confirmation_round_start(*, today: date | None = None):
    """In the month of CONTACTS_CONFIRMATION_MONTH, the year's round: created on the first run
    with every member in force as a target, once a year (the unique year). None outside the
    month."""
    today = today or timezone.localdate()
    if today.month != settings.CONTACTS_CONFIRMATION_MONTH:
        return None
    with transaction.atomic():
        confirmation_round, created = ContactsConfirmationRound.objects.get_or_create(
            year=today.year, defaults={"deadline": today + timedelta(days=ANSWER_DAYS)}
        )
        if created:
            ContactsConfirmationTarget.objects.bulk_create(
                ContactsConfirmationTarget(round=confirmation_round, organisation=o)
                for o in selectors.members_in_force()
            )
    return confirmation_round


def contacts_confirmations_send_due(*, today: date | None = None) -> list[PlannedMessage]:
    """The daily run: start the year's round in its month, then send what the year's round
    owes: a request to whoever has none (a run cut short), and until the deadline the latest
    due reminder step (`due_step`: no burst after a pause) to those asked before its day."""
    today = today or timezone.localdate()
    contacts_confirmation_round_start(today=today)
    confirmation_round = (
        ContactsConfirmationRound.objects.filter(deadline__gte=today).order_by("-year").first()
    )
    if confirmation_round is None:
        return []
    sent: list[PlannedMessage] = []
    requested = ContactsConfirmationMessage.objects.filter(
        round=confirmation_round, organisation=OuterRef("organisation"), step=REQUEST
    )
    not_requested = unanswered_targets(confirmation_round).filter(~Exists(requested))
    sent += _send_to_targets(confirmation_round, not_requested, REQUEST)
    step = due_step(confirmation_round, today)
    if step is not None:
        sent += _send_to_targets(confirmation_round, _targets_owed(confirmation_round, step), step)
    return sent


def _targets_owed(confirmation_round, step: str) -> QuerySet[ContactsConfirmationTarget]:
    """Unanswered targets asked before the step's day (as `campaigns._targets_owed`)."""
    requested_before = ContactsConfirmationMessage.objects.filter(
        round=confirmation_round,
        organisation=OuterRef("organisation"),
        step=REQUEST,
        created_at__lt=step_starts_at(confirmation_round.deadline, step),
    )
    return unanswered_targets(confirmation_round).filter(Exists(requested_before))


def _send_to_targets(
    confirmation_round, targets: QuerySet[ContactsConfirmationTarget], step: str
) -> list[PlannedMessage]:
    """Write the step's messages to `targets`, CAMPAIGN_BATCH_SIZE organisations at a time
    (`campaigns.in_batches`): a fixed number of queries per batch."""
    organisation_ids = list(targets.values_list("organisation_id", flat=True))
    return in_batches(organisation_ids, lambda batch: _send_batch(confirmation_round, batch, step))


@transaction.atomic
def _send_batch(confirmation_round, organisation_ids: list[int], step: str) -> list:
    """Claim and write one step's messages for a batch of organisations that have not
    answered, in one transaction: the targets' locks make two runs take turns, and the unique
    message row makes a step once per recipient."""
    targets = ContactsConfirmationTarget.objects.select_for_update().filter(
        round=confirmation_round, organisation_id__in=organisation_ids
    )
    list(targets.order_by("pk").values_list("pk", flat=True))  # locked, in id order
    answered = set(
        confirmation_targets()
        .filter(round=confirmation_round, organisation_id__in=organisation_ids, answered=True)
        .values_list("organisation_id", flat=True)
    )
    owed = [pk for pk in organisation_ids if pk not in answered]
    sent_to = set(
        ContactsConfirmationMessage.objects.filter(
            round=confirmation_round, organisation_id__in=owed, step=step
        ).values_list("organisation_id", "recipient")
    )
    contacts: dict[int, list[ContactPerson]] = {}
    active = with_bounce(ContactPerson.objects.filter(is_active=True, organisation_id__in=owed))
    for contact in active.select_related("organisation").order_by("role", "name"):
        contacts.setdefault(contact.organisation_id, []).append(contact)
    administrative = {
        organisation_id: [c for c in listed if c.role == ContactPerson.Role.ADMINISTRATIVE]
        for organisation_id, listed in contacts.items()
    }
    recipients = [
        emails.ConfirmationRecipient(
            organisation=contact.organisation,
            contact=contact,
            contacts=contacts[organisation_id],
            link=confirmation_url(
                link=ConfirmationLink(confirmation_round.pk, organisation_id, recipient),
                language=contact.language,
            ),
        )
        for organisation_id, contact, recipient in addressed_once(owed, administrative, sent_to)
    ]
    written = emails.contacts_confirmations(
        confirmation_round=confirmation_round, step=step, recipients=recipients
    )
    ContactsConfirmationMessage.objects.bulk_create(
        ContactsConfirmationMessage(
            round=confirmation_round,
            organisation=recipient.organisation,
            step=step,
            recipient=email.to,
            email=email,
        )
        for recipient, email in zip(recipients, written, strict=True)
    )
    return [
        PlannedMessage(confirmation_round.pk, recipient.organisation.name_fi, step, email.to)
        for recipient, email in zip(recipients, written, strict=True)
    ]
