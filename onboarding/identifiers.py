"""Identifiers used in MPASSid: OPH's OIDs (root 1.2.246.562) and the Finnish business ID.

Each validator returns the normalised value (surrounding whitespace removed) or raises a
ValidationError whose translated message says what is wrong with the value.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

OPH_ROOT = "1.2.246.562"
ORGANISATION_NODE = "10"
TEST_ORGANISATION_NODE = "99"
LEARNER_NODE = "24"
TEST_LEARNER_NODE = "98"
# The longest OID the database stores, far longer than any real one (OPH's run to about 40
# characters). A longer value is refused with that said, never cut: cut, it could be another OID.
MAX_OID_LENGTH = 64
TEST_OID_PREFIX = f"{OPH_ROOT}.{TEST_ORGANISATION_NODE}."

NODE_NAMES = {
    ORGANISATION_NODE: _("an organisation OID"),
    TEST_ORGANISATION_NODE: _("a test organisation OID"),
    LEARNER_NODE: _("a learner number"),
    TEST_LEARNER_NODE: _("a test learner number"),
}

_DIGITS = re.compile(r"[0-9]+")
_BUSINESS_ID_SHAPE = re.compile(r"^(?P<body>[0-9]{7})-(?P<check>[0-9])$")
_BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
_LEARNER_WEIGHTS = (7, 3, 1)


def _split_oph_oid(value: str) -> tuple[str, str]:
    """Return (node, digits) of an OID under OPH's root, or raise with what is wrong."""
    if not isinstance(value, str) or not value:
        raise ValidationError(_("Enter an identifier."), code="required")
    if len(value) > MAX_OID_LENGTH:
        raise ValidationError(
            _(
                "The identifier is too long (%(count)s characters): no OID has more than "
                "%(max)s. Check that nothing else was pasted with it."
            ),
            code="too_long",
            params={"count": len(value), "max": MAX_OID_LENGTH},
        )
    if not value.startswith(OPH_ROOT + "."):
        raise ValidationError(
            _("The identifier must start with %(root)s."), code="root", params={"root": OPH_ROOT}
        )
    rest = value[len(OPH_ROOT) + 1 :]
    node, _dot, digits = rest.partition(".")
    if not _DIGITS.fullmatch(node) or not digits:
        raise ValidationError(
            _("Write the identifier as %(root)s.NN.digits, for example %(root)s.10.12345678901."),
            code="format",
            params={"root": OPH_ROOT},
        )
    if not _DIGITS.fullmatch(digits):
        raise ValidationError(
            _("After %(root)s.%(node)s. the identifier may contain only digits."),
            code="digits",
            params={"root": OPH_ROOT, "node": node},
        )
    return node, digits


def _wrong_node(node: str, expected: str) -> ValidationError:
    found = NODE_NAMES.get(node)
    if found is None:
        return ValidationError(
            _("Node %(node)s is not used for %(expected)s; it should be %(root)s.%(right)s."),
            code="node",
            params={
                "node": node,
                "expected": NODE_NAMES[expected],
                "root": OPH_ROOT,
                "right": expected,
            },
        )
    return ValidationError(
        _("This is %(found)s, not %(expected)s."),
        code="node",
        params={"found": found, "expected": NODE_NAMES[expected]},
    )


_ORGANISATION_LENGTH = {
    ORGANISATION_NODE: _(
        "An organisation OID has 11 digits after %(root)s.%(node)s. (or 12 ending in 10, or 20 "
        "or more); this one has %(count)s. Check for a missing or doubled digit."
    ),
    TEST_ORGANISATION_NODE: _(
        "A test organisation OID has 11 digits after %(root)s.%(node)s. (or 12 ending in 10, or "
        "20 or more); this one has %(count)s. Check for a missing or doubled digit."
    ),
}


def organisation_digits_valid(digits: str) -> bool:
    """The lengths OPH's organisation OIDs come in after the node; no check digit is tested.

    OPH never checks one (about 3 % of real OIDs fail Luhn): 11 digits (the root
    00000000001 and the fixed test organisations included); 12 digits ending in 10, a form an
    old generator wrote (Helsingin kaupunki 346830761110); or 20 and more, timestamp OIDs such
    as Kela's 2013121014482686198719. Anything else is a dropped or doubled digit.
    """
    count = len(digits)
    return count == 11 or (count == 12 and digits.endswith("10")) or count >= 20


def validate_organisation_oid(value: str, *, allow_test: bool = False) -> str:
    """An organisation OID is node 10; node 99 is a test organisation, accepted only if allowed.

    Its digits have one of the lengths OPH writes (`organisation_digits_valid`); there is no
    reliable check digit to test.
    """
    value = str(value or "").strip()
    node, digits = _split_oph_oid(value)
    if node == TEST_ORGANISATION_NODE:
        if not allow_test:
            raise ValidationError(
                _("Test organisations (%(root)s.99) are not accepted here."),
                code="test_not_allowed",
                params={"root": OPH_ROOT},
            )
    elif node != ORGANISATION_NODE:
        raise _wrong_node(node, ORGANISATION_NODE)
    if not organisation_digits_valid(digits):
        raise ValidationError(
            _ORGANISATION_LENGTH[node],
            code="length",
            params={"root": OPH_ROOT, "node": node, "count": len(digits)},
        )
    return value


def learner_check_digit(body: str) -> int:
    """7-3-1 weights from the right, as in Finnish bank reference numbers."""
    total = sum(int(digit) * _LEARNER_WEIGHTS[i % 3] for i, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def luhn_check_digit(body: str) -> int:
    total = 0
    for i, digit in enumerate(reversed(body)):
        n = int(digit)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10


def validate_learner_number(value: str, *, allow_test: bool = False) -> str:
    """A learner number is node 24 with 11 digits, the last a 7-3-1 check digit.

    A test learner number is node 98 with a Luhn check digit, accepted only if allowed. Both
    also come with 12 digits ending in 10: a check digit 0 that an old generator wrote as 10
    (e.g. 1.2.246.562.24.898261719310).
    """
    value = str(value or "").strip()
    node, digits = _split_oph_oid(value)
    if node == TEST_LEARNER_NODE:
        if not allow_test:
            raise ValidationError(
                _("Test learner numbers (%(root)s.98) are not accepted here."),
                code="test_not_allowed",
                params={"root": OPH_ROOT},
            )
        check = luhn_check_digit
    elif node == LEARNER_NODE:
        check = learner_check_digit
    else:
        raise _wrong_node(node, LEARNER_NODE)
    if len(digits) == 12 and digits.endswith("10"):
        body, written = digits[:10], 0  # the check digit 0, written as 10
    elif len(digits) == 11:
        body, written = digits[:-1], int(digits[-1])
    else:
        raise ValidationError(
            _(
                "A learner number has 11 digits after %(root)s.%(node)s. (or 12 ending in 10); "
                "this one has %(count)s."
            ),
            code="length",
            params={"root": OPH_ROOT, "node": node, "count": len(digits)},
        )
    if check(body) != written:
        raise ValidationError(
            _("The check digit (the last digit) is wrong: check the number for typing errors."),
            code="check_digit",
        )
    return value


def business_id_check_digit(body: str) -> int | None:
    """The Y-tunnus check digit, or None when no valid one exists (remainder 1)."""
    remainder = sum(int(d) * w for d, w in zip(body, _BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def validate_business_id(value: str) -> str:
    """A Finnish business ID (Y-tunnus): 7 digits, a hyphen and a check digit."""
    value = str(value or "").strip()
    match = _BUSINESS_ID_SHAPE.match(value)
    if not match:
        raise ValidationError(
            _("Write the business ID as seven digits, a hyphen and a check digit, e.g. 0150783-1."),
            code="format",
        )
    expected = business_id_check_digit(match["body"])
    if expected is None or expected != int(match["check"]):
        raise ValidationError(
            _("The check digit of the business ID is wrong: check it for typing errors."),
            code="check_digit",
        )
    return value


def is_valid_business_id(value: str) -> bool:
    """Whether `value` passes `validate_business_id` (for data shown, not refused)."""
    try:
        validate_business_id(value)
    except ValidationError:
        return False
    return True


def is_test_organisation_oid(value: str) -> bool:
    return value.startswith(TEST_OID_PREFIX)


# Validators for model and form fields: they read the deployment's setting at call time.
def organisation_oid_validator(value: str) -> None:
    validate_organisation_oid(value, allow_test=settings.ALLOW_TEST_ORGANISATIONS)


def business_id_validator(value: str) -> None:
    validate_business_id(value)
