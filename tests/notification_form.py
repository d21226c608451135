"""Lempäälä's notification form as a browser fills it in: its pages, and a complete, valid post
of it. Shared by the tests of the form, of sending a notification and of who sees what."""

from __future__ import annotations

import re

from onboarding.selectors import current_terms
from tests.factories import LEMPAALA

FORM = f"/en/notify/{LEMPAALA}/"
CHECK, SUBMIT = f"{FORM}check/", f"{FORM}submit/"
CONTACT_ROWS = [  # name, email, phone, role, language; the last two rows are left empty
    ("Alice Aaltonen", "Alice@Lempaala.fi", "040 1234567", "administrative", "fi"),
    ("Teemu Tekninen", "it@lempaala.fi", "050 7654321", "technical", "sv"),
    ("", "", "", "security", "fi"),
    ("", "", "", "data_protection", "fi"),
]
ORGANISATION = {
    "name_fi": "Lempäälän kunta",
    "name_sv": "Lempäälä kommun",
    "name_en": "Municipality of Lempäälä",
    "business_id": "0150783-1",
}
ACCEPTER = {"accepter_name": "Alice Aaltonen", "accepter_title": "Sivistysjohtaja"}


def valid_post(token: str = "", acceptance: bool = True, **changes: str) -> dict[str, str]:
    """A complete, valid notification as the browser posts it, accepting the terms in force
    unless not `acceptance`; `changes` replace fields (an empty string is an empty input or an
    unticked checkbox)."""
    data = {
        "token": token or "8b0c3f5e-4a51-4d7e-9a3f-2f1b8c6d7e90",
        **ORGANISATION,
        "kind": "education_provider",
        "sectors": "basic",
        "learner_numbers_confirmed": "on",
        "contacts-TOTAL_FORMS": str(len(CONTACT_ROWS)),
        "contacts-INITIAL_FORMS": str(len(CONTACT_ROWS)),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(CONTACT_ROWS):
        fields = [f"contacts-{i}-{f}" for f in ("name", "email", "phone", "role", "language")]
        data.update(zip(fields, row, strict=True))
    if acceptance:
        terms = current_terms()
        data.update(
            ACCEPTER,
            accept_terms="on",
            authority_confirmed="on",
            terms_version=terms.version if terms else "",
        )
    return {**data, **changes}


def token_on(page: str) -> str:
    """The submission token the form carries."""
    return re.search(r'name="token" value="([^"]+)"', page)[1]
