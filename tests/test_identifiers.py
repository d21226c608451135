"""OPH identifiers and the Finnish business ID: what a user types is accepted or explained.

The check-digit oracles below are written here from OPH's rules, not imported from the project.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding.identifiers import (
    validate_business_id,
    validate_learner_number,
    validate_organisation_oid,
)

ROOT = "1.2.246.562"
LEMPAALA_OID = f"{ROOT}.10.74484103937"
LEMPAALA_Y_TUNNUS = "0150783-1"
OPH_ROOT_ORGANISATION = f"{ROOT}.10.00000000001"

DIGITS = "0123456789"
bodies = st.text(alphabet=DIGITS, min_size=10, max_size=10)
y_bodies = st.text(alphabet=DIGITS, min_size=7, max_size=7)
modest = settings(max_examples=200, deadline=None)


def ref_learner_check(body: str) -> int:
    """Weights 7, 3, 1 repeating from the right; check = (10 - sum % 10) % 10."""
    weights = [7, 3, 1]
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def ref_luhn_check(body: str) -> int:
    """Luhn: double every second digit starting from the rightmost of the body."""
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n // 10 + n % 10
    return (10 - total % 10) % 10


def ref_y_check(body: str) -> int | None:
    remainder = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return None if remainder == 1 else (0 if remainder == 0 else 11 - remainder)


def learner(body: str, node: str = "24", check: Callable[[str], int] = ref_learner_check) -> str:
    return f"{ROOT}.{node}.{body}{check(body)}"


def refused(validate: Callable[..., str], value: str, code: str, **kwargs: bool) -> str:
    """Assert the value is refused with `code`; return the interpolated message text."""
    with pytest.raises(ValidationError) as info:
        validate(value, **kwargs)
    assert info.value.code == code
    text = " ".join(info.value.messages)
    assert isinstance(text, str) and text.strip() and "%(" not in text
    return text


# The reference implementations agree with published examples.
def test_the_reference_check_digits_match_known_examples() -> None:
    assert ref_learner_check("123") == 2  # Finnish bank reference number 1232
    assert ref_learner_check("1000000000") == 3
    assert ref_luhn_check("7992739871") == 3  # the classic Luhn example
    assert ref_y_check("0150783") == 1  # Lempäälän kunta
    assert ref_y_check("0112038") == 9  # Nokia Oyj
    assert ref_y_check("0000006") is None  # 6 * 2 = 12, remainder 1


# Organisation OIDs.
HELSINKI_OID = f"{ROOT}.10.346830761110"  # 12 digits ending in 10, an old generator's form
KELA_OID = f"{ROOT}.10.2013121014482686198719"  # a timestamp OID
OPH_TEST_ORGANISATION = f"{ROOT}.99.00000000001"


def ref_organisation_length_ok(digits: str) -> bool:
    """OPH's lengths: 11 digits, 12 ending in 10, or 20 and more; never a check digit."""
    return len(digits) == 11 or (len(digits) == 12 and digits[-2:] == "10") or len(digits) >= 20


@pytest.mark.parametrize(
    "oid", [LEMPAALA_OID, OPH_ROOT_ORGANISATION, HELSINKI_OID, KELA_OID, f"{ROOT}.10.{'1' * 22}"]
)
def test_real_organisation_oids_in_the_forms_oph_writes_are_accepted(oid: str) -> None:
    assert validate_organisation_oid(oid) == oid


def test_an_organisation_oid_is_never_checked_on_a_check_digit() -> None:
    body = "7448410393"  # about 3 % of real OIDs fail Luhn: OPH never checks it
    for last in DIGITS:
        assert validate_organisation_oid(f"{ROOT}.10.{body}{last}") == f"{ROOT}.10.{body}{last}"
    assert ref_luhn_check(body) != 8


def test_oph_test_organisations_are_accepted_when_allowed() -> None:
    assert validate_organisation_oid(OPH_TEST_ORGANISATION, allow_test=True) == (
        OPH_TEST_ORGANISATION
    )


@pytest.mark.parametrize(
    ("digits", "count"),
    [
        ("7448410393", "10"),  # a dropped digit
        ("744841039377", "12"),  # a doubled one: 12 digits not ending in 10
        ("7448410393777", "13"),
        ("1", "1"),
        ("1" * 19, "19"),
    ],
)
def test_an_organisation_oid_of_another_length_is_refused_saying_what_was_found(
    digits: str, count: str
) -> None:
    text = refused(validate_organisation_oid, f"{ROOT}.10.{digits}", "length")
    assert f"An organisation OID has 11 digits after {ROOT}.10." in text
    assert f"this one has {count}" in text


def test_a_test_organisation_oid_of_another_length_is_refused_as_a_test_one() -> None:
    text = refused(validate_organisation_oid, f"{ROOT}.99.1234567890", "length", allow_test=True)
    assert f"A test organisation OID has 11 digits after {ROOT}.99." in text
    assert "this one has 10" in text


def test_an_oid_longer_than_any_real_one_is_refused_saying_how_long_it_is() -> None:
    pasted = LEMPAALA_OID + LEMPAALA_OID + LEMPAALA_OID  # 78 characters, all digits and dots
    text = refused(validate_organisation_oid, pasted, "too_long")
    assert "too long (78 characters)" in text and "64" in text
    assert validate_organisation_oid(f"{ROOT}.10.{'1' * 49}") == f"{ROOT}.10.{'1' * 49}"  # 64


def test_surrounding_whitespace_is_stripped() -> None:
    assert validate_organisation_oid(f"  {LEMPAALA_OID}\n\t") == LEMPAALA_OID
    assert validate_business_id(f" {LEMPAALA_Y_TUNNUS} ") == LEMPAALA_Y_TUNNUS
    number = learner("1000000000")
    assert validate_learner_number(f"\t{number} ") == number


def test_an_oid_under_another_root_is_refused() -> None:
    text = refused(validate_organisation_oid, "1.2.246.563.10.74484103937", "root")
    assert ROOT in text


def test_a_learner_number_is_not_an_organisation() -> None:
    text = refused(validate_organisation_oid, learner("1000000000"), "node")
    assert "This is a learner number, not an organisation OID" in text


def test_a_test_organisation_is_refused_unless_allowed() -> None:
    test_org = f"{ROOT}.99.12345678901"
    assert f"{ROOT}.99" in refused(validate_organisation_oid, test_org, "test_not_allowed")
    assert validate_organisation_oid(test_org, allow_test=True) == test_org


@pytest.mark.parametrize("tail", ["7448410393a", "7448 4103937", "1.2", "١٢٣", "７４４"])
def test_only_ascii_digits_may_follow_the_node(tail: str) -> None:
    text = refused(validate_organisation_oid, f"{ROOT}.10.{tail}", "digits")
    assert f"{ROOT}.10." in text


@pytest.mark.parametrize("value", [f"{ROOT}.10", f"{ROOT}.10.", f"{ROOT}.x.123"])
def test_a_missing_node_or_number_is_a_format_error(value: str) -> None:
    assert ROOT in refused(validate_organisation_oid, value, "format")


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_value_is_required(value: str) -> None:
    for validate in (validate_organisation_oid, validate_learner_number):
        refused(validate, value, "required")
    refused(validate_business_id, value, "format")


# Learner numbers.
def test_a_learner_number_with_a_wrong_check_digit_is_refused() -> None:
    good = learner("1000000000")
    refused(validate_learner_number, good[:-1] + "4", "check_digit")


@pytest.mark.parametrize(
    ("digits", "count"), [("1" * 10, "10"), ("1" * 12, "12"), ("1" * 11 + "10", "13")]
)
def test_a_learner_number_needs_eleven_digits(digits: str, count: str) -> None:
    text = refused(validate_learner_number, f"{ROOT}.24.{digits}", "length")
    assert f"this one has {count}" in text and f"{ROOT}.24." in text


def test_a_check_digit_zero_written_as_ten_is_valid() -> None:
    number = f"{ROOT}.24.898261719310"  # as OPH's data has it
    assert ref_learner_check("8982617193") == 0
    assert validate_learner_number(number) == number
    assert validate_learner_number(f"{ROOT}.24.89826171930") == f"{ROOT}.24.89826171930"


def test_the_twelve_digit_form_is_only_for_a_check_digit_zero() -> None:
    body = "1000000000"
    assert ref_learner_check(body) != 0
    refused(validate_learner_number, f"{ROOT}.24.{body}10", "check_digit")


def test_a_test_learner_number_also_comes_in_the_twelve_digit_form() -> None:
    body = next(f"{n:010d}" for n in range(1000, 2000) if ref_luhn_check(f"{n:010d}") == 0)
    number = f"{ROOT}.98.{body}10"
    assert validate_learner_number(number, allow_test=True) == number
    refused(validate_learner_number, number, "test_not_allowed")


def test_a_test_learner_number_is_refused_unless_allowed() -> None:
    test_number = learner("7992739871", node="98", check=ref_luhn_check)
    assert test_number.endswith("79927398713")
    refused(validate_learner_number, test_number, "test_not_allowed")
    assert validate_learner_number(test_number, allow_test=True) == test_number
    # A test learner number uses Luhn, not the 7-3-1 rule.
    refused(validate_learner_number, test_number[:-1] + "4", "check_digit", allow_test=True)


def test_an_organisation_is_not_a_learner_number() -> None:
    text = refused(validate_learner_number, LEMPAALA_OID, "node")
    assert "This is an organisation OID, not a learner number" in text


def test_an_unknown_node_names_the_right_one() -> None:
    text = refused(validate_learner_number, f"{ROOT}.77.10000000003", "node")
    assert f"{ROOT}.24" in text and "77" in text


# Business IDs (Y-tunnus).
def test_real_business_ids_are_accepted() -> None:
    assert validate_business_id(LEMPAALA_Y_TUNNUS) == LEMPAALA_Y_TUNNUS
    assert validate_business_id("0112038-9") == "0112038-9"


@pytest.mark.parametrize(
    "value", ["01507831", "150783-1", "01507830-1", "O150783-1", "0150783-X", "0150783–1"]
)
def test_a_business_id_in_the_wrong_shape_is_refused(value: str) -> None:
    assert "0150783-1" in refused(validate_business_id, value, "format")


def test_a_business_id_with_a_wrong_check_digit_is_refused() -> None:
    refused(validate_business_id, "0150783-2", "check_digit")


@pytest.mark.parametrize("check", DIGITS)
def test_a_body_with_remainder_one_is_always_refused(check: str) -> None:
    refused(validate_business_id, f"0000006-{check}", "check_digit")


# Properties.
@modest
@given(body=bodies)
def test_exactly_the_reference_check_digit_completes_a_learner_number(body: str) -> None:
    right = ref_learner_check(body)
    for digit in range(10):
        value = f"{ROOT}.24.{body}{digit}"
        if digit == right:
            assert validate_learner_number(value) == value
        else:
            refused(validate_learner_number, value, "check_digit")


@modest
@given(body=bodies, position=st.integers(0, 10), shift=st.integers(1, 9))
def test_any_single_digit_typo_in_a_learner_number_is_caught(
    body: str, position: int, shift: int
) -> None:
    digits = body + str(ref_learner_check(body))
    typo = digits[:position] + str((int(digits[position]) + shift) % 10) + digits[position + 1 :]
    assert typo != digits
    refused(validate_learner_number, f"{ROOT}.24.{typo}", "check_digit")


@modest
@given(digits=st.text(alphabet=DIGITS, min_size=1, max_size=40), node=st.sampled_from(["10", "99"]))
def test_exactly_oph_lengths_of_any_digits_make_an_organisation_oid(digits: str, node: str) -> None:
    oid = f"{ROOT}.{node}.{digits}"
    if ref_organisation_length_ok(digits):
        assert validate_organisation_oid(oid, allow_test=True) == oid
    else:
        refused(validate_organisation_oid, oid, "length", allow_test=True)


@modest
@given(body=bodies, node=st.sampled_from(["24", "98"]))
def test_a_twelve_digit_learner_number_is_valid_exactly_when_its_check_digit_is_zero(
    body: str, node: str
) -> None:
    check = ref_learner_check if node == "24" else ref_luhn_check
    value = f"{ROOT}.{node}.{body}10"
    if check(body) == 0:
        assert validate_learner_number(value, allow_test=True) == value
    else:
        refused(validate_learner_number, value, "check_digit", allow_test=True)


@modest
@given(body=y_bodies)
def test_a_business_id_body_has_at_most_one_check_digit(body: str) -> None:
    accepted = []
    for digit in DIGITS:
        try:
            accepted.append(validate_business_id(f"{body}-{digit}"))
        except ValidationError as error:
            assert error.code == "check_digit"
    right = ref_y_check(body)
    assert accepted == ([] if right is None else [f"{body}-{right}"])


@modest
@given(
    prefix=st.sampled_from(["", f"{ROOT}.", f"{ROOT}.10.", f"{ROOT}.24.", f"{ROOT}.98."]),
    tail=st.text(),
    allow_test=st.booleans(),
)
def test_validators_only_ever_raise_validation_errors(
    prefix: str, tail: str, allow_test: bool
) -> None:
    text = prefix + tail
    for validate in (validate_organisation_oid, validate_learner_number):
        try:
            assert validate(text, allow_test=allow_test) == text.strip()
        except ValidationError as error:
            assert error.messages and all(isinstance(m, str) and m for m in error.messages)
    try:
        assert validate_business_id(text) == text.strip()
    except ValidationError as error:
        assert error.code == "format" or error.code == "check_digit"


@pytest.mark.parametrize(
    "validate", [validate_organisation_oid, validate_learner_number, validate_business_id]
)
def test_a_value_that_is_not_text_is_refused_as_invalid_not_a_crash(validate):
    with pytest.raises(ValidationError):
        validate(1224656210)
