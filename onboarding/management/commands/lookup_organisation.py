"""`manage.py lookup_organisation OID`: what OPH's organisation registry says about an OID.

It only reads: the answer is printed, never stored (the weekly check and the review page
store snapshots). A malformed OID is refused before asking; when the registry cannot answer
(not found, timeout, an error, a bad answer, lookups off) the command exits non-zero with
one line saying why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations

from onboarding import organisation_registry
from onboarding.identifiers import is_valid_business_id, validate_organisation_oid
from onboarding.organisation_registry import (
    CouldNotAsk,
    NotFound,
    RegistryOrganisation,
    RegistryStatus,
    type_label,
)


class Command(BaseCommand):
    help = "Print what OPH's organisation registry says about an organisation OID."

    def add_arguments(self, parser):
        parser.add_argument("oid", help="e.g. 1.2.246.562.10.74484103937")

    @no_translations
    def handle(self, *args, **options):
        try:
            oid = validate_organisation_oid(options["oid"], allow_test=True)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        answer = organisation_registry.lookup(oid, fresh=True)
        if isinstance(answer, NotFound):
            raise CommandError(f"{oid} is not in OPH's organisation registry.")
        if isinstance(answer, CouldNotAsk):
            detail = f" ({answer.detail})" if answer.detail else ""
            raise CommandError(f"{answer.reason}{detail}")
        self.stdout.write("\n".join(describe(answer)))


def describe(organisation: RegistryOrganisation) -> list[str]:
    """The answer as lines of "label: value"; what the registry leaves out is shown as –."""
    statuses = dict(RegistryStatus.choices)
    business_id = organisation.business_id or "–"
    if organisation.business_id and not is_valid_business_id(organisation.business_id):
        business_id += " (the registry's; it fails the business ID check)"
    closed_on = organisation.closed_on.isoformat() if organisation.closed_on else "–"
    status = organisation.status
    return [
        f"OID: {organisation.oid}",
        *(
            f"Name ({language}): {organisation.names.get(language) or '–'}"
            for language in ("fi", "sv", "en")
        ),
        f"Business ID: {business_id}",
        f"Types: {', '.join(type_label(t) for t in organisation.types) or '–'}",
        f"Status: {f'{status} ({statuses[status]})' if status in statuses else status or '–'}",
        f"Closing date: {closed_on}",
        f"Parent OIDs: {' / '.join(organisation.parent_oids) or '–'}",
    ]
