"""The public member register: who is in MPASSid, since when, on which basis.

One read model for the page (/members/), the JSON and the CSV (/api/members.json, .csv). The
whole register is built once per change (three queries, however many members) and kept in the
Django cache under a token; `invalidate` replaces the token after every acceptance, lapse,
approval and admin edit (on commit, by the signals below), and after terms are published: the
cached public pages (onboarding.page_cache) use the same token. The membership rules themselves are
`services.membership.basis_of`'s.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from onboarding import selectors
from onboarding.localised import localised
from onboarding.models import (
    LegacyContract,
    Organisation,
    Registration,
    TermsAcceptance,
    TermsVersion,
)
from onboarding.models.organisations import OrganisationKind, Sector, sectors_in_order
from onboarding.services.membership import basis_of, with_basis
from onboarding.spreadsheets import spreadsheet_safe

TOKEN_KEY = "member-register:token"  # (token, changed_at): replaced by `invalidate`
# The version (v2: with the gzip bodies) keeps a process of a new release from reading a
# snapshot that the previous release pickled without a field it needs.
SNAPSHOT_KEY = "member-register:snapshot:v2:{token}"
SNAPSHOT_SECONDS = 24 * 60 * 60  # a replaced token's snapshot is never read again
CSV_COLUMNS = [
    "oid",
    "name_fi",
    "name_sv",
    "name_en",
    "kind",
    "sectors",
    "basis",
    "member_since",
    "in_force_from",
    "terms_version",
]


@dataclass(frozen=True)
class MemberRow:
    """One member as the register shows it."""

    oid: str
    name_fi: str
    name_sv: str
    name_en: str
    kind: str
    sectors: tuple[str, ...]
    basis: str  # "terms" or "contract"
    member_since: date | None
    in_force_from: date | None
    terms_version: str | None

    @property
    def name(self) -> str:
        """The name in the active language, falling back to Finnish."""
        return localised(self, "name")

    @property
    def kind_label(self) -> str:
        return str(OrganisationKind(self.kind).label)

    @property
    def sector_labels(self) -> list[str]:
        return [str(Sector(code).label) for code in self.sectors]

    @property
    def on_terms(self) -> bool:
        return self.basis == "terms"

    def as_json(self) -> dict[str, Any]:
        return {
            "oid": self.oid,
            "name": {"fi": self.name_fi, "sv": self.name_sv or None, "en": self.name_en or None},
            "kind": self.kind,
            "sectors": list(self.sectors),
            "basis": self.basis,
            "member_since": _iso(self.member_since),
            "in_force_from": _iso(self.in_force_from),
            "terms_version": self.terms_version,
        }

    def as_csv(self) -> list[str]:
        cells = [self.oid, self.name_fi, self.name_sv, self.name_en, self.kind]
        cells += [",".join(self.sectors), self.basis]
        cells += [_iso(self.member_since) or "", _iso(self.in_force_from) or ""]
        cells += [self.terms_version or ""]
        return spreadsheet_safe(cells)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True)
class Register:
    """The register as built at `generated_at`, with its bodies for programs."""

    token: str
    rows: tuple[MemberRow, ...]
    generated_at: datetime
    last_modified: datetime  # the last write, or the last day a member came under the terms
    stale_on: date | None  # the next day a member comes under the terms: rebuilt then
    digest: str  # of the members' data: the ETag
    json_body: bytes = field(repr=False)
    csv_body: bytes = field(repr=False)
    # The same, compressed once per build for clients that take gzip (onboarding.views.register).
    json_gzip: bytes = field(repr=False)
    csv_gzip: bytes = field(repr=False)

    def is_stale(self, today: date) -> bool:
        return self.stale_on is not None and self.stale_on <= today


def register_rows(*, today: date | None = None) -> list[MemberRow]:
    """Every member in force (on the terms, or on an old contract not lapsed), never a test
    organisation, in order of their Finnish names: three queries."""
    today = today or timezone.localdate()
    organisations = with_basis(selectors.members_in_force().real()).order_by("name_fi", "oid")
    rows = []
    for organisation in organisations:
        basis = basis_of(organisation, today=today)
        if basis is None:
            continue
        rows.append(
            MemberRow(
                oid=organisation.oid,
                name_fi=organisation.name_fi,
                name_sv=organisation.name_sv,
                name_en=organisation.name_en,
                kind=organisation.kind,
                sectors=tuple(sectors_in_order(organisation.sectors)),
                basis=basis.basis,
                member_since=basis.member_since,
                in_force_from=basis.in_force_from,
                terms_version=basis.terms_version.version if basis.terms_version else None,
            )
        )
    return rows


def build_register(*, token: str, changed_at: datetime, today: date | None = None) -> Register:
    today = today or timezone.localdate()
    rows = tuple(register_rows(today=today))
    members = [row.as_json() for row in rows]
    digest = hashlib.sha256(json.dumps(members, sort_keys=True).encode()).hexdigest()
    days = [row.in_force_from for row in rows if row.in_force_from]
    came = max((day for day in days if day <= today), default=None)
    now = timezone.now()
    generated_at = timezone.localtime(now).replace(microsecond=0)  # Helsinki time, as documented
    document = {"generated_at": generated_at.isoformat(), "count": len(rows), "members": members}
    json_body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    csv_body = _csv(rows)
    return Register(
        token=token,
        rows=rows,
        generated_at=generated_at,
        last_modified=max(changed_at, _midnight(came)) if came else changed_at,
        stale_on=min((day for day in days if day > today), default=None),
        digest=digest,
        json_body=json_body,
        csv_body=csv_body,
        json_gzip=gzip.compress(json_body, mtime=0),
        csv_gzip=gzip.compress(csv_body, mtime=0),
    )


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _csv(rows: tuple[MemberRow, ...]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # so that Excel reads UTF-8
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row.as_csv() for row in rows)
    return out.getvalue().encode()


_built: Register | None = None  # this process's copy of the shared snapshot


def current_register() -> Register:
    """The register now: this process's copy while its token is current, else the shared
    cache's, else built (and shared)."""
    global _built
    token, changed_at = _token()
    today = timezone.localdate()
    if _built is not None and _built.token == token and not _built.is_stale(today):
        return _built
    key = SNAPSHOT_KEY.format(token=token)
    register = cache.get(key)
    if register is None or register.is_stale(today):
        register = build_register(token=token, changed_at=changed_at, today=today)
        cache.set(key, register, SNAPSHOT_SECONDS)
    _built = register
    return register


_seen: tuple[tuple[str, datetime], float] | None = None  # (the token, when it was read)


def _token() -> tuple[str, datetime]:
    """The shared token, read again from the cache once PUBLIC_PAGES_RECHECK_SECONDS have
    passed (a read of Redis costs a public page as much as the rest of it), or at once after
    this process invalidated it."""
    global _seen
    now = clock.monotonic()
    if _seen is not None and now - _seen[1] < settings.PUBLIC_PAGES_RECHECK_SECONDS:
        return _seen[0]
    current = cache.get(TOKEN_KEY)
    if current is None:
        cache.add(TOKEN_KEY, (uuid.uuid4().hex, timezone.now()), None)
        current = cache.get(TOKEN_KEY)
    _seen = (current, now)
    return current


def version() -> str:
    """The token of the data the public pages show: it changes whenever `invalidate` runs
    (onboarding.page_cache keeps its pages under it too)."""
    return _token()[0]


def invalidate() -> None:
    """The register changed: the next request builds it again. Call after commit."""
    global _seen
    cache.set(TOKEN_KEY, (uuid.uuid4().hex, timezone.now().replace(microsecond=0)), None)
    _seen = None


def member_register(
    *,
    query: str = "",
    kind: str = "",
    sector: str = "",
    sort: str = "name",
    source: Register | None = None,
) -> list[MemberRow]:
    """The register's rows for the page: those whose name (in any language) or OID contains
    `query`, of `kind` and serving `sector` (if given), in the order `sort` names (a
    `SORTS` key, "-" first for descending). `source` is the register read (the current one
    unless given), so that a page's rows and its total come from one copy."""
    needle = query.strip().casefold()
    rows = [
        row
        for row in (source or current_register()).rows
        if (not kind or row.kind == kind)
        and (not sector or sector in row.sectors)
        and (not needle or needle in _searched(row))
    ]
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"), SORTS["name"])
    return sorted(rows, key=key, reverse=descending)


def _searched(row: MemberRow) -> str:
    return " ".join((row.oid, row.name_fi, row.name_sv, row.name_en)).casefold()


SORTS = {
    "name": lambda row: (row.name.casefold(), row.oid),
    "oid": lambda row: row.oid,
    "kind": lambda row: (row.kind_label.casefold(), row.name.casefold()),
    "basis": lambda row: (row.basis, row.in_force_from or date.min, row.name.casefold()),
    "member_since": lambda row: (row.member_since or date.max, row.name.casefold()),
}


# Invalidation: every write that can change the register, once its transaction commits. The
# legacy import writes in bulk (no signals): it calls `invalidate` itself.


def _changed(sender, instance=None, **kwargs) -> None:
    if sender is Registration and instance.status != Registration.Status.APPROVED:
        return
    if sender is TermsVersion and not instance.is_published:
        return  # a draft is shown nowhere public
    transaction.on_commit(invalidate)


def connect_signals() -> None:
    # Publishing terms changes no member, but the start and terms pages cached under the same
    # token (onboarding.page_cache).
    for model in (TermsAcceptance, Organisation, LegacyContract, Registration, TermsVersion):
        post_save.connect(_changed, sender=model, dispatch_uid=f"member-register-{model.__name__}")
    for model in (Organisation, LegacyContract):
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"member-register-delete-{model.__name__}"
        )


connect_signals()
