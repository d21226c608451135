"""OPH's organisation service (Organisaatiopalvelu): what it says about one organisation.

`lookup(oid)` asks `GET {ORGANISATION_SERVICE_URL}/api/{oid}`, naming the portal in the
`Caller-Id` header as OPH's services expect of one another, and answers with one of three
values: `RegistryOrganisation` (found), `NotFound` or `CouldNotAsk` (with the reason). It never
raises for what the network or the service does. One request, a timeout of a few seconds and
no retries; found and not-found answers are cached for a few minutes, failures never.

The service has answered in several shapes over the years, and all of them are read here:
types as koodi URIs (`organisaatiotyyppi_01`) or as names (`Koulutustoimija`); `status`
sometimes absent; `lakkautusPvm` as an ISO date or as epoch milliseconds; `parentOidPath`
pipe-delimited (`|root|...|`) or slash-delimited; an unknown OID answers `null` with 200.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onboarding.identifiers import OPH_ROOT

ROOT_ORGANISATION = f"{OPH_ROOT}.10.00000000001"


class RegistryStatus(models.TextChoices):
    """An organisation's status in the registry; "" when the answer does not say."""

    ACTIVE = "AKTIIVINEN", _("Active")
    PLANNED = "SUUNNITELTU", _("Planned")
    PASSIVE = "PASSIIVINEN", _("Passive")
    DELETED = "POISTETTU", _("Deleted")


CLOSED_STATUSES = frozenset({RegistryStatus.PASSIVE, RegistryStatus.DELETED})


class OrganisationType(models.TextChoices):
    """The registry's organisation types (koodisto `organisaatiotyyppi`), one value each
    whether an answer wrote the koodi URI or the older name."""

    EDUCATION_PROVIDER = "education_provider", _("Education provider")
    INSTITUTION = "institution", _("Educational institution")
    OFFICE = "office", _("Office")
    APPRENTICESHIP_OFFICE = "apprenticeship_office", _("Apprenticeship office")
    OTHER = "other", _("Other organisation")
    LABOUR_ORGANISATION = "labour_organisation", _("Labour market organisation")
    EARLY_EDUCATION_PROVIDER = "early_education_provider", _("Early childhood education provider")
    EARLY_EDUCATION_UNIT = "early_education_unit", _("Early childhood education unit")
    MUNICIPALITY = "municipality", _("Municipality")


_TYPE_CODES = {
    "01": OrganisationType.EDUCATION_PROVIDER,
    "02": OrganisationType.INSTITUTION,
    "03": OrganisationType.OFFICE,
    "04": OrganisationType.APPRENTICESHIP_OFFICE,
    "05": OrganisationType.OTHER,
    "06": OrganisationType.LABOUR_ORGANISATION,
    "07": OrganisationType.EARLY_EDUCATION_PROVIDER,
    "08": OrganisationType.EARLY_EDUCATION_UNIT,
    "09": OrganisationType.MUNICIPALITY,
}
# Older answers' names, compared in lower case without Finnish letters or spaces.
_TYPE_NAMES = {
    "koulutustoimija": OrganisationType.EDUCATION_PROVIDER,
    "oppilaitos": OrganisationType.INSTITUTION,
    "toimipiste": OrganisationType.OFFICE,
    "oppisopimustoimipiste": OrganisationType.APPRENTICESHIP_OFFICE,
    "muuorganisaatio": OrganisationType.OTHER,
    "tyoelamajarjesto": OrganisationType.LABOUR_ORGANISATION,
    "varhaiskasvatuksenjarjestaja": OrganisationType.EARLY_EDUCATION_PROVIDER,
    "varhaiskasvatuksentoimipaikka": OrganisationType.EARLY_EDUCATION_UNIT,
    "kunta": OrganisationType.MUNICIPALITY,
}
_STATUS = re.compile(r"[A-Z_]{0,32}")
_TYPE_URI = re.compile(r"^organisaatiotyyppi_(?P<code>[0-9]+)(?:#[0-9]+)?$")


class LookupFailure(models.TextChoices):
    """Why the portal could not ask; the label is the reason shown to people."""

    OFF = "off", _("Lookups in OPH's organisation service are off.")
    TIMEOUT = "timeout", _("OPH's organisation service did not answer in time.")
    UNREACHABLE = "unreachable", _("OPH's organisation service could not be reached.")
    SERVER_ERROR = "server_error", _("OPH's organisation service had an error.")
    BAD_ANSWER = (
        "bad_answer",
        _("OPH's organisation service gave an answer the portal cannot read."),
    )


@dataclass(frozen=True)
class RegistryOrganisation:
    """What the registry says about an organisation, in one shape whatever the answer's."""

    oid: str
    names: dict[str, str] = field(default_factory=dict)  # {"fi", "sv", "en"}: any may be missing
    business_id: str = ""  # as the registry gives it, not validated
    types: tuple[str, ...] = ()  # OrganisationType values; an unknown type as written
    status: str = ""  # a RegistryStatus value, or "" when the answer has none
    closed_on: date | None = None  # lakkautusPvm
    parent_oids: tuple[str, ...] = ()  # the root first, the organisation itself not included

    @property
    def is_closed(self) -> bool:
        """Passive or deleted, or closed by a date that has come (`closed_on` ≤ today)."""
        return is_closed(self.status, self.closed_on)


@dataclass(frozen=True)
class NotFound:
    """The registry has no organisation with this OID."""

    oid: str


@dataclass(frozen=True)
class CouldNotAsk:
    """No answer to rely on; `reason` says why in the reader's language, `detail` for logs."""

    oid: str
    failure: LookupFailure
    detail: str = ""

    @property
    def reason(self) -> str:
        return str(self.failure.label)


Answer = RegistryOrganisation | NotFound | CouldNotAsk


class BadAnswer(ValueError):
    """The answer is not in any shape the service has used."""


def is_closed(status: str, closed_on: date | None, *, today: date | None = None) -> bool:
    """The one rule for "closed in the registry": PASSIIVINEN or POISTETTU, or a closing date
    (lakkautusPvm) that is today or past."""
    today = today or timezone.localdate()
    return status in CLOSED_STATUSES or (closed_on is not None and closed_on <= today)


def is_closing(status: str, closed_on: date | None) -> bool:
    """Closed or closing, as staff act on it: PASSIIVINEN or POISTETTU, or any closing date,
    past or to come (`RegistryState.CLOSED`)."""
    return status in CLOSED_STATUSES or closed_on is not None


def status_label(status: str) -> str:
    """A registry status in the reader's language; one the portal does not know as written."""
    return str(dict(RegistryStatus.choices).get(status, status))


def type_label(kind: str) -> str:
    """An organisation type in the reader's language; one the portal does not know as written."""
    return str(dict(OrganisationType.choices).get(kind, kind))


def lookups_on() -> bool:
    return bool(settings.ORGANISATION_SERVICE_URL)


def lookup(oid: str, *, fresh: bool = False) -> Answer:
    """What the registry says about `oid`: from the cache unless `fresh`, else one request.

    A found or not-found answer is cached (`ORGANISATION_SERVICE_CACHE_SECONDS`); a failure is
    not, so the next lookup asks again.
    """
    if not lookups_on():
        return CouldNotAsk(oid, LookupFailure.OFF)
    key = _cache_key(oid)
    if not fresh and (cached := cache.get(key)) is not None:
        return cached
    answer = _ask(oid)
    if not isinstance(answer, CouldNotAsk):
        cache.set(key, answer, settings.ORGANISATION_SERVICE_CACHE_SECONDS)
    return answer


def _cache_key(oid: str) -> str:
    # The service's address is part of the key: another registry gives other answers.
    where = hashlib.sha256(settings.ORGANISATION_SERVICE_URL.encode()).hexdigest()[:12]
    return f"organisation-registry:v1:{where}:{oid}"  # v1: the shape of the cached values


def _ask(oid: str) -> Answer:
    """One GET, its failures told apart; never raises."""
    url = f"{settings.ORGANISATION_SERVICE_URL}/api/{quote(oid, safe='')}"
    headers = {"Caller-Id": settings.ORGANISATION_SERVICE_CALLER_ID, "Accept": "application/json"}
    try:
        response = httpx.get(url, headers=headers, timeout=settings.ORGANISATION_SERVICE_TIMEOUT)
    except httpx.TimeoutException as error:
        return CouldNotAsk(oid, LookupFailure.TIMEOUT, type(error).__name__)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return CouldNotAsk(oid, LookupFailure.UNREACHABLE, f"{type(error).__name__}: {error}")
    if response.status_code == 404:
        return NotFound(oid)
    if response.status_code >= 500:
        return CouldNotAsk(oid, LookupFailure.SERVER_ERROR, f"HTTP {response.status_code}")
    if response.status_code != 200:
        return CouldNotAsk(oid, LookupFailure.BAD_ANSWER, f"HTTP {response.status_code}")
    try:
        return parse(oid, response.json())
    except (ValueError, BadAnswer) as error:  # JSONDecodeError is a ValueError
        return CouldNotAsk(oid, LookupFailure.BAD_ANSWER, str(error)[:200])


def parse(oid: str, data: Any) -> RegistryOrganisation | NotFound:
    """An answer's JSON in one shape; raises BadAnswer for a shape the service never used."""
    if data is None:
        return NotFound(oid)
    if not isinstance(data, dict):
        raise BadAnswer(f"an answer of type {type(data).__name__}")
    if data.get("oid") != oid:
        raise BadAnswer(f"the answer is about {data.get('oid')!r}")
    return RegistryOrganisation(
        oid=oid,
        names=_names(data.get("nimi")),
        business_id=_text(data, "ytunnus"),
        types=_types(data.get("tyypit", data.get("organisaatiotyypit"))),
        status=_status(_text(data, "status")),
        closed_on=_date(data.get("lakkautusPvm")),
        parent_oids=_parents(_text(data, "parentOidPath"), oid),
    )


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadAnswer(f"{key} is not text")
    return value.strip()


def _status(value: str) -> str:
    """A RegistryStatus value, or one the service adds later, kept as written."""
    if not _STATUS.fullmatch(value):
        raise BadAnswer("status is not a status")
    return value


def _names(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadAnswer("nimi is not an object")
    return {
        language: name.strip()
        for language in ("fi", "sv", "en")
        if isinstance(name := value.get(language), str) and name.strip()
    }


def _types(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadAnswer("tyypit is not a list of text")
    found: list[str] = []
    for written in value:
        kind = _type_of(written.strip())
        if kind and kind not in found:
            found.append(kind)
    return tuple(found)


def _type_of(written: str) -> str:
    """The OrganisationType value of a koodi URI or an old name; an unknown one as written."""
    if match := _TYPE_URI.match(written):
        known = _TYPE_CODES.get(match["code"].zfill(2))
    else:
        plain = written.lower().translate(str.maketrans("äö", "ao")).replace(" ", "")
        known = _TYPE_NAMES.get(plain)
    return known.value if known else written


def _date(value: Any) -> date | None:
    """lakkautusPvm: an ISO date (or date-time), or epoch milliseconds (a number or digits),
    read as a day in Finland, where the registry keeps its dates."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(value / 1000, tz=ZoneInfo(settings.TIME_ZONE))
        except (OverflowError, OSError, ValueError) as error:
            raise BadAnswer("lakkautusPvm is out of range") from error
        return moment.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError as error:
            raise BadAnswer("lakkautusPvm is not a date") from error
    raise BadAnswer("lakkautusPvm is not a date")


def _parents(path: str, oid: str) -> tuple[str, ...]:
    """The parents in `parentOidPath`, the root first; the organisation itself left out."""
    parts = [part.strip() for part in re.split(r"[|/]", path) if part.strip()]
    if len(parts) > 1 and parts[-1] == ROOT_ORGANISATION and parts[0] != ROOT_ORGANISATION:
        parts.reverse()  # a path written from the organisation up
    return tuple(part for part in parts if part != oid)
