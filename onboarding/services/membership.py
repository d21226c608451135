"""When the terms are in force for whom, and since when an organisation is a member.

The one home of these rules: acceptances store `in_force_from` from `in_force_from_for`, the
data migration 0010 fills old acceptances from `in_force_date`, and the register reads
`basis_of` (prefetch with `with_basis` first, so that a list costs a fixed number of queries).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from onboarding.models import Organisation, TermsAcceptance, TermsVersion

Basis = Literal["terms", "contract"]


def in_force_date(*, accepted_on: date, approved_on: date, contract_ends_on: date | None) -> date:
    """The first day an acceptance puts an organisation under the terms.

    A new joiner (no contract): the day its notification is approved. A contract member that
    accepted (sent its accepting notification) before its contract's `ends_on` (the first day
    the contract no longer holds): that `ends_on`, not the day it accepted. One that accepted on
    or after `ends_on`: the day its notification is approved.
    """
    if contract_ends_on is not None and accepted_on < contract_ends_on:
        return contract_ends_on
    return approved_on


def contract_ends_on(organisation: Organisation) -> date | None:
    """The day the organisation's old joining agreement no longer holds: the latest `ends_on`
    of its contracts (imports may give other dates than 1.8.2024), or None without one."""
    return max((c.ends_on for c in organisation.legacy_contracts.all()), default=None)


def in_force_from_for(
    *, organisation: Organisation, accepted_at: datetime, approved_on: date | None = None
) -> date:
    """The `in_force_from` of an acceptance `organisation` sent at `accepted_at` (the time its
    notification was submitted) and that is approved on `approved_on` (default: today in
    Helsinki). See `in_force_date` for the rule."""
    return in_force_date(
        accepted_on=timezone.localdate(accepted_at),
        approved_on=approved_on or timezone.localdate(),
        contract_ends_on=contract_ends_on(organisation),
    )


def member_since(organisation: Organisation) -> date | None:
    """The first day of membership on any basis: the earliest signing day of the
    organisation's old contracts for a contract member, otherwise the earliest day its terms
    came in force. None when neither is known (a contract without a signing day and no
    acceptance)."""
    signed = [c.signed_on for c in organisation.legacy_contracts.all() if c.signed_on]
    if signed:
        return min(signed)
    if organisation.legacy_contracts.all():
        return None
    return min((a.in_force_from for a in organisation.acceptances.all()), default=None)


@dataclass(frozen=True)
class MembershipBasis:
    """On what basis an organisation is a member, for the register.

    `basis` is "terms" when an accepted version is in force today, "contract" for a member
    still on its old contract; `in_force_from` and `terms_version` are those of the acceptance
    in force, or for a contract member of the acceptance that will be (None if it has not
    accepted).
    """

    basis: Basis
    in_force_from: date | None
    terms_version: TermsVersion | None
    member_since: date | None


def with_basis(organisations: QuerySet[Organisation]) -> QuerySet[Organisation]:
    """`organisations` with what `basis_of` and `member_since` read prefetched: two queries
    more for the whole list, however long."""
    return organisations.prefetch_related(
        "legacy_contracts",
        Prefetch(
            "acceptances",
            queryset=TermsAcceptance.objects.select_related("terms_version").order_by(
                "in_force_from", "accepted_at"
            ),
        ),
    )


def basis_of(organisation: Organisation, *, today: date | None = None) -> MembershipBasis | None:
    """The organisation's basis of membership today (Helsinki), or None if it is not a member
    (never joined, or lapsed). A contract member whose contract has ended but that has not
    lapsed stays on the contract basis until a campaign lapses it. Without N+1 on organisations
    from `with_basis`."""
    if organisation.membership not in (
        Organisation.Membership.TERMS_ACCEPTED,
        Organisation.Membership.LEGACY_CONTRACT,
    ):
        return None
    today = today or timezone.localdate()
    acceptances = sorted(organisation.acceptances.all(), key=lambda a: a.in_force_from)
    in_force = [a for a in acceptances if a.in_force_from <= today]
    coming = [a for a in acceptances if a.in_force_from > today]
    has_contract = bool(organisation.legacy_contracts.all())
    if in_force or not has_contract:
        chosen = in_force[-1] if in_force else (coming[0] if coming else None)
        basis: Basis = "terms"
    else:
        chosen = coming[0] if coming else None
        basis = "contract"
    return MembershipBasis(
        basis=basis,
        in_force_from=chosen.in_force_from if chosen else None,
        terms_version=chosen.terms_version if chosen else None,
        member_since=member_since(organisation),
    )


def bases_of(
    organisations: Iterable[Organisation], *, today: date | None = None
) -> dict[int, MembershipBasis]:
    """`basis_of` for each member among `organisations` (prefetched by `with_basis`), by pk."""
    bases = {}
    for organisation in organisations:
        basis = basis_of(organisation, today=today)
        if basis is not None:
            bases[organisation.pk] = basis
    return bases
