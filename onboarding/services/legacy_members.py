"""The import of legacy members: organisations with an old joining agreement and their contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from onboarding import register
from onboarding.legacy_import import LegacyMemberRow
from onboarding.models import AcceptanceCampaign, ContactPerson, LegacyContract, Organisation
from onboarding.services.campaigns import (
    LateTargets,
    campaign_check_takes_late_targets,
    campaign_targets_add,
)

Membership = Organisation.Membership

# What the file decides about an organisation; name_en and the rest stay as they are.
IMPORTED_ORGANISATION_FIELDS = ("name_fi", "name_sv", "business_id", "kind")
CONTACT_FIELDS = ("name", "language")
CONTRACT_FIELDS = ("signed_on", "ends_on")
# Stored in the history records of what an import wrote (history_change_reason).
CHANGE_REASON = "import_legacy_members"
# Rows per UPDATE statement: bulk_update writes one CASE per field, which grows with the batch.
UPDATE_BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class ImportResult:
    organisations: Counts
    contacts: Counts
    contracts: Counts
    dry_run: bool = False
    # Per campaign named to the import: the file's organisations that join it (or would).
    campaigns: tuple[LateTargets, ...] = ()

    @property
    def changed(self) -> bool:
        return any(
            c.created or c.updated for c in (self.organisations, self.contacts, self.contracts)
        )

    def by_kind(self) -> list[tuple[str, Counts]]:
        """The counts with what they count, as the command and the admin show them."""
        return [
            (_("Organisations"), self.organisations),
            (_("Contact persons"), self.contacts),
            (_("Joining agreements"), self.contracts),
        ]

    def summary_lines(self) -> list[str]:
        return [
            _("%(what)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
            % {
                "what": what,
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
            }
            for what, counts in self.by_kind()
        ] + [
            ngettext(
                "Campaign “%(campaign)s”: %(count)d organisation joins and is invited at once.",
                "Campaign “%(campaign)s”: %(count)d organisations join and are invited at once.",
                len(added.names),
            )
            % {"campaign": added.campaign, "count": len(added.names)}
            for added in self.campaigns
        ]


@dataclass(slots=True)
class _Changes:
    """New and changed objects of one model, and the fields that changed in any of them."""

    new: list[models.Model] = field(default_factory=list)
    changed: list[models.Model] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)
    unchanged: int = 0

    def apply(self, obj: models.Model, wanted: dict[str, Any]) -> None:
        """Set the wanted values on an existing object, counting it as changed only if one
        differs: an import of the same file writes nothing and adds no history."""
        differing = {name: value for name, value in wanted.items() if getattr(obj, name) != value}
        if not differing:
            self.unchanged += 1
            return
        for name, value in differing.items():
            setattr(obj, name, value)
        self.changed.append(obj)
        self.fields.update(differing)

    def counts(self) -> Counts:
        return Counts(created=len(self.new), updated=len(self.changed), unchanged=self.unchanged)


def legacy_members_import(
    *,
    rows: Sequence[LegacyMemberRow],
    dry_run: bool = False,
    campaign_ids: Sequence[int] = (),
) -> ImportResult:
    """Create or update the organisations, joining agreements and contacts of a validated file.

    The rules:
    - An organisation is found by its OID; its names, business ID and kind become the file's,
      and its sectors too when the file gives them.
    - A new organisation is a member by its old contract (legacy_contract); so is an existing one
      that was not a member. One that accepted the terms or lapsed keeps its membership.
    - A joining agreement is found by (organisation, contract_reference); its dates become the
      file's.
    - A contact is found among the organisation's active contacts by email (in any case) and
      role; its name and language become the file's.
    - Nothing is deleted or deactivated, and an object whose values already match is not
      written at all (no UPDATE, no history record).

    The rows come validated from `legacy_import.parse_legacy_members`, with the same validators as
    the model fields; the database's constraints guard the rest. A constant number of queries
    whatever the number of rows (up to batches of UPDATE_BATCH_SIZE). With `dry_run`, everything
    is written and rolled back, so the counts are exactly what the import would do.

    With `campaign_ids` (running campaigns), the file's organisations that a campaign would ask
    today but does not join it and are invited at once (`campaigns.campaign_targets_add`), after
    the import has committed. A campaign that takes no organisations stops the import before it
    writes anything; should it close in between, the import stays and the campaign's admin
    action adds them.
    """
    members = _by_organisation(rows)
    today = timezone.localdate()
    campaigns = _campaigns_taking_late_targets(campaign_ids, today)
    added: list[LateTargets] = []
    with transaction.atomic():
        organisations, contracts, contacts = _write_members(members)
        if dry_run:
            added = [
                campaign_targets_add(campaign_id=c.pk, oids=members, today=today, dry_run=True)
                for c in campaigns
            ]
            transaction.set_rollback(True)
        else:  # bulk writes send no signals: the register is told here
            transaction.on_commit(register.invalidate)
    if not dry_run:
        # Own transactions: the campaign's locks come before any organisation's (as at launch).
        added = [
            campaign_targets_add(campaign_id=c.pk, oids=members, today=today) for c in campaigns
        ]
    return ImportResult(
        organisations=organisations.counts(),
        contacts=contacts.counts(),
        contracts=contracts.counts(),
        dry_run=dry_run,
        campaigns=tuple(added),
    )


def _campaigns_taking_late_targets(
    campaign_ids: Sequence[int], today: date
) -> list[AcceptanceCampaign]:
    """The campaigns named, each able to take the file's organisations; else a ValidationError
    before anything is written."""
    campaigns = list(
        AcceptanceCampaign.objects.select_related("terms_version").filter(pk__in=campaign_ids)
    )
    missing = sorted(set(campaign_ids) - {campaign.pk for campaign in campaigns})
    if missing:
        raise ValidationError(
            _("There is no campaign %(number)s.") % {"number": ", ".join(map(str, missing))}
        )
    for campaign in campaigns:
        campaign_check_takes_late_targets(campaign, today)
    return campaigns


def _write_members(
    members: dict[str, list[LegacyMemberRow]],
) -> tuple[_Changes, _Changes, _Changes]:
    """Organisations, then their contracts and contacts, as the file has them: the changes made
    to each (in the caller's transaction)."""
    now = timezone.now()
    # Locked in id order, as the campaigns lock a batch of organisations: never a deadlock.
    locked = Organisation.objects.select_for_update().filter(oid__in=list(members)).order_by("pk")
    existing = {organisation.oid: organisation for organisation in locked}
    organisations = _organisation_changes(members, existing)
    _save(Organisation, organisations, now)
    by_oid = {organisation.oid: organisation for organisation in organisations.new}
    by_oid.update(existing)
    contracts = _contract_changes(members, by_oid, existing)
    _save(LegacyContract, contracts, now)
    contacts = _contact_changes(members, by_oid, existing)
    _save(ContactPerson, contacts, now)
    return organisations, contracts, contacts


def _by_organisation(rows: Sequence[LegacyMemberRow]) -> dict[str, list[LegacyMemberRow]]:
    members: dict[str, list[LegacyMemberRow]] = {}
    for row in rows:
        members.setdefault(row.oid, []).append(row)
    return members


def _organisation_changes(
    members: dict[str, list[LegacyMemberRow]], existing: dict[str, Organisation]
) -> _Changes:
    changes = _Changes()
    for oid, rows in members.items():
        wanted: dict[str, Any] = {
            name: getattr(rows[0], name) for name in IMPORTED_ORGANISATION_FIELDS
        }
        if rows[0].sectors:  # a file without them leaves the sectors stated so far
            wanted["sectors"] = list(rows[0].sectors)
        organisation = existing.get(oid)
        if organisation is None:
            changes.new.append(
                Organisation(oid=oid, membership=Membership.LEGACY_CONTRACT, **wanted)
            )
            continue
        if organisation.membership == Membership.NONE:
            wanted["membership"] = Membership.LEGACY_CONTRACT
        changes.apply(organisation, wanted)
    return changes


def _contract_changes(
    members: dict[str, list[LegacyMemberRow]],
    organisations: dict[str, Organisation],
    existing: dict[str, Organisation],
) -> _Changes:
    known = {
        (contract.organisation_id, contract.contract_reference): contract
        for contract in LegacyContract.objects.select_for_update().filter(
            organisation__in=list(existing.values())
        )
    }
    changes = _Changes()
    for oid, rows in members.items():
        organisation = organisations[oid]
        row = rows[0]
        wanted = {name: getattr(row, name) for name in CONTRACT_FIELDS}
        contract = known.get((organisation.pk, row.contract_reference))
        if contract is None:
            changes.new.append(
                LegacyContract(
                    organisation=organisation, contract_reference=row.contract_reference, **wanted
                )
            )
        else:
            changes.apply(contract, wanted)
    return changes


def _contact_changes(
    members: dict[str, list[LegacyMemberRow]],
    organisations: dict[str, Organisation],
    existing: dict[str, Organisation],
) -> _Changes:
    known = {
        (contact.organisation_id, contact.email.lower(), contact.role): contact
        for contact in ContactPerson.objects.select_for_update().filter(
            organisation__in=list(existing.values()), is_active=True
        )
    }
    changes = _Changes()
    for oid, rows in members.items():
        organisation = organisations[oid]
        for row in rows:
            wanted = {"name": row.contact_name, "language": row.contact_language}
            contact = known.get((organisation.pk, row.contact_email, row.contact_role))
            if contact is None:
                changes.new.append(
                    ContactPerson(
                        organisation=organisation,
                        email=row.contact_email,
                        role=row.contact_role,
                        **wanted,
                    )
                )
            else:
                changes.apply(contact, wanted)
    return changes


def _save(model: type[models.Model], changes: _Changes, now: datetime) -> None:
    """Bulk writes with their history records; `updated_at` by hand, as bulk_update skips
    auto_now."""
    if changes.new:
        bulk_create_with_history(changes.new, model, default_change_reason=CHANGE_REASON)
    if changes.changed:
        fields = set(changes.fields)
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            for obj in changes.changed:
                obj.updated_at = now
            fields.add("updated_at")
        bulk_update_with_history(
            changes.changed,
            model,
            sorted(fields),
            batch_size=UPDATE_BATCH_SIZE,
            default_change_reason=CHANGE_REASON,
        )
