"""Writes of the registry snapshots: what OPH's organisation registry says, stored per OID.

Only the snapshot (`RegistryEntry`) changes here: an organisation's own data and membership
never change because of the registry; staff decide. The registry is asked outside any
transaction (no lock is held while the network answers), and the answer stored in one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from onboarding import emails, organisation_registry, selectors
from onboarding.identifiers import validate_organisation_oid
from onboarding.models import Organisation, RegistryCheck, RegistryEntry
from onboarding.organisation_registry import (
    Answer,
    CouldNotAsk,
    LookupFailure,
    RegistryOrganisation,
)

logger = logging.getLogger(__name__)

# Members asked between two writes; each batch is stored in one transaction.
BATCH_SIZE = 50
# This many failures in a row mean the service is down: the check stops instead of waiting
# on every member in turn, and what was not asked keeps its snapshot.
FAILURES_BEFORE_STOPPING = 5
_BOOKKEEPING = ("checked_at", "last_failure", "last_failure_at")


def registry_entry_refresh(*, oid: str, fresh: bool = True) -> RegistryEntry:
    """Ask the registry about `oid` and store its answer as the OID's snapshot.

    Found or not found, the data is replaced and `checked_at` set; a change of the data is a
    new version in the history. A failure to ask keeps the last known data and records why
    and when (`last_failure`). `fresh=False` accepts an answer cached minutes ago. A malformed
    OID raises ValidationError without asking.
    """
    oid = validate_organisation_oid(oid, allow_test=settings.ALLOW_TEST_ORGANISATIONS)
    answer = organisation_registry.lookup(oid, fresh=fresh)
    if isinstance(answer, CouldNotAsk) and answer.failure != LookupFailure.OFF:
        logger.warning("Registry lookup of %s failed: %s %s", oid, answer.failure, answer.detail)
    try:
        return _store_one(oid, answer)
    except IntegrityError:  # another request stored the first snapshot meanwhile: update it
        return _store_one(oid, answer)


@transaction.atomic
def _store_one(oid: str, answer: Answer) -> RegistryEntry:
    entry = RegistryEntry.objects.select_for_update().filter(oid=oid).first()
    entry = entry or RegistryEntry(oid=oid)
    if _apply(entry, answer, timezone.now()) or entry.pk is None:
        entry.full_clean(validate_unique=False)  # the database guards it; see the retry
        with transaction.atomic():  # a savepoint: a concurrent first insert is retried
            entry.save()
    else:
        RegistryEntry.objects.filter(pk=entry.pk).update(
            **{name: getattr(entry, name) for name in _BOOKKEEPING}
        )
    return entry


def _apply(entry: RegistryEntry, answer: Answer, now: datetime) -> bool:
    """Put the answer on the entry; whether the registry's data changed."""
    if isinstance(answer, CouldNotAsk):
        entry.last_failure, entry.last_failure_at = answer.failure, now
        return False
    values = _values(answer)
    changed = any(getattr(entry, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(entry, name, value)
    entry.checked_at, entry.last_failure, entry.last_failure_at = now, "", None
    return changed


def _values(answer: RegistryOrganisation | organisation_registry.NotFound) -> dict:
    """The data fields an answer sets. "Not found" keeps the last names and business ID: the
    history shows what the organisation was, and `found` says it is no longer."""
    if not isinstance(answer, RegistryOrganisation):
        return {"found": False}
    return {
        "found": True,
        "name_fi": answer.names.get("fi", ""),
        "name_sv": answer.names.get("sv", ""),
        "name_en": answer.names.get("en", ""),
        "business_id": answer.business_id,
        "types": list(answer.types),
        "status": answer.status,
        "closed_on": answer.closed_on,
        "parent_oids": list(answer.parent_oids),
    }


def registry_recheck_members(*, batch_size: int = BATCH_SIZE) -> RegistryCheck | None:
    """The weekly check: ask the registry about every member in force (`members_in_force`),
    in batches, pausing `ORGANISATION_SERVICE_PAUSE` seconds between two requests, and store
    each answer as the member's snapshot. Then ONE summary email to staff, when the registry
    began to say something new about members since the last check (`selectors.registry_news`):
    closed or closing, no longer found, a new name or business ID.

    Nothing but the snapshots changes. With lookups off nothing is asked and None returned.
    After FAILURES_BEFORE_STOPPING failures in a row the check stops (the service is down).
    """
    if not organisation_registry.lookups_on():
        return None
    check = RegistryCheck.objects.create()
    asking = _Asking()
    for batch in _member_batches(batch_size):
        answers = [asking.ask(organisation.oid) for organisation in _until_down(batch, asking)]
        _store_batch(answers)
        check.failed += sum(isinstance(answer, CouldNotAsk) for answer in answers)
        check.checked += sum(not isinstance(answer, CouldNotAsk) for answer in answers)
        if asking.down:
            check.stopped = asking.down
            logger.warning("Registry check %s stopped: %s", check.pk, asking.last_detail)
            break
    return _registry_check_finish(check)


class _Asking:
    """Fresh lookups one at a time, a pause between two; notes when the service is down
    (FAILURES_BEFORE_STOPPING failures in a row)."""

    def __init__(self) -> None:
        self.asked = 0
        self.failures_in_a_row = 0
        self.down = ""
        self.last_detail = ""

    def ask(self, oid: str) -> Answer:
        if self.asked:
            time.sleep(settings.ORGANISATION_SERVICE_PAUSE)
        self.asked += 1
        answer = organisation_registry.lookup(oid, fresh=True)
        if isinstance(answer, CouldNotAsk):
            self.last_detail = f"{answer.failure} {answer.detail}"
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= FAILURES_BEFORE_STOPPING:
                self.down = answer.failure
        else:
            self.failures_in_a_row = 0
        return answer


def _until_down(batch: list[Organisation], asking: _Asking) -> Iterator[Organisation]:
    for organisation in batch:
        if asking.down:
            return
        yield organisation


def _member_batches(size: int) -> Iterator[list[Organisation]]:
    """Members in force by id, `size` at a time: one query a batch, whatever the total."""
    last = 0
    while True:
        batch = list(
            selectors.members_in_force().filter(pk__gt=last).order_by("pk").only("pk", "oid")[:size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


@transaction.atomic
def _store_batch(answers: list[Answer]) -> None:
    """A batch's answers in a fixed number of queries: new snapshots and changed ones with
    their history, unchanged ones and failures by a plain update (no new version)."""
    now = timezone.now()
    entries = RegistryEntry.objects.select_for_update().in_bulk(
        [answer.oid for answer in answers], field_name="oid"
    )
    new, changed, unchanged, failed = [], [], [], {}
    for answer in answers:
        entry = entries.get(answer.oid) or RegistryEntry(oid=answer.oid)
        data_changed = _apply(entry, answer, now)
        if entry.pk is None:
            new.append(entry)
        elif isinstance(answer, CouldNotAsk):
            failed.setdefault(answer.failure, []).append(entry.pk)
        else:
            (changed if data_changed else unchanged).append(entry)
    if new:
        bulk_create_with_history(new, RegistryEntry, default_date=now)
    if changed:
        fields = [*RegistryEntry.DATA_FIELDS, *_BOOKKEEPING]
        bulk_update_with_history(changed, RegistryEntry, fields, default_date=now)
    if unchanged:
        RegistryEntry.objects.filter(pk__in=[entry.pk for entry in unchanged]).update(
            checked_at=now, last_failure="", last_failure_at=None
        )
    for failure, pks in failed.items():
        RegistryEntry.objects.filter(pk__in=pks).update(last_failure=failure, last_failure_at=now)


@transaction.atomic
def _registry_check_finish(check: RegistryCheck) -> RegistryCheck:
    """Close the check and, in the same transaction, write the staff summary of what is new
    since the last finished check (told once: the next check starts where this one ends)."""
    check.finished_at = timezone.now()
    check.save()
    earlier = selectors.registry_check_last_finished(before=check)
    news = selectors.registry_news(
        since=earlier.finished_at if earlier else None, until=check.finished_at
    )
    if news:
        emails.registry_summary(check, news)
    return check
