"""Whatever is posted to a public form or put in a query parameter, the portal never answers
500, and an answer that is an error leaves nothing half-saved.

Hypothesis writes the input: arbitrary text, control characters, very long values, bytes in
odd encodings. The profile "fuzz" (the default, for CI) tries a few fixed examples per test;
FUZZ_PROFILE=fuzz-thorough tries many more, at random:

    FUZZ_PROFILE=fuzz-thorough pytest tests/security/test_fuzz_inputs.py
"""

from __future__ import annotations

import io
import os
import zipfile
from urllib.parse import quote, quote_from_bytes

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding.legacy_import import parse_legacy_members
from onboarding.models import (
    ContactPerson,
    ContactsConfirmationTarget,
    Organisation,
    OutgoingEmail,
    Registration,
    TermsAcceptance,
)
from tests.factories import notification
from tests.importing import HEADER, SHEET, csv_bytes, lempaala_rows, xlsx_bytes, xlsx_with_part
from tests.notification_form import CHECK, FORM, SUBMIT, valid_post

pytestmark = pytest.mark.django_db

settings.register_profile(
    "fuzz",
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI does not flake
    database=None,  # no .hypothesis folder in the checkout
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one client, one database per test is meant
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile(
    "fuzz-thorough", parent=settings.get_profile("fuzz"), max_examples=300, derandomize=False
)
FUZZ = settings.get_profile(os.environ.get("FUZZ_PROFILE", "fuzz"))

# What a person, a broken browser or an attacker may send.
CONTROL = st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=20)
LONG = st.builds(
    lambda text, times: text * times, st.text(min_size=1, max_size=3), st.integers(2_000, 30_000)
)
KNOWN = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "\r\n",
        "%00",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\ufeff",
        "\u202e",
        "𝕄𝕡𝕒𝕤𝕤",
        "1.2.246.562.10.74484103937\x00",
        "http://evil.example/",
        "//evil.example",
        "-1",
        "99999999999999999999999999",
        "NaN",
    ]
)
TEXT = st.one_of(KNOWN, st.text(max_size=200), CONTROL, LONG)
CHARSETS = st.sampled_from(
    [
        "",
        "; charset=utf-8",
        "; charset=utf-16",
        "; charset=latin-1",
        "; charset=nonsense",
        "; charset=",
    ]
)

User = get_user_model()
KEPT = (
    User,
    EmailAddress,
    Organisation,
    ContactPerson,
    Registration,
    TermsAcceptance,
    OutgoingEmail,
    ContactsConfirmationTarget,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in KEPT}


def answered(response, before: dict[str, int]) -> None:
    """Never a 500; an error answer wrote nothing."""
    assert response.status_code < 500
    if response.status_code >= 400:
        assert counts() == before


def post(client: Client, path: str, fields: dict[str, str]):
    before = counts()
    answered(client.post(path, fields), before)


def get(client: Client, path: str, params: dict[str, str] | None = None):
    before = counts()
    answered(client.get(path, params or {}), before)


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def signed_in(alice, terms) -> Client:
    client = Client()
    client.force_login(alice)
    return client


# Forms anyone can send


@FUZZ
@given(email=TEXT, next_=TEXT)
def test_the_sign_in_email_form(anonymous, email, next_):
    post(anonymous, "/en/accounts/login/code/", {"email": email, "next": next_})


@FUZZ
@given(login=TEXT, password=TEXT, next_=TEXT)
def test_the_password_sign_in_form(anonymous, login, password, next_):
    post(anonymous, "/en/accounts/login/", {"login": login, "password": password, "next": next_})


@FUZZ
@given(code=TEXT)
def test_the_code_form(anonymous, mailoutbox, code):
    asked = anonymous.post("/en/accounts/login/code/", {"email": "someone@koulu.fi"})
    post(anonymous, asked.get("Location", "/en/accounts/login/code/confirm/"), {"code": code})


@FUZZ
@given(language=TEXT, next_=TEXT)
def test_the_language_switch(anonymous, language, next_):
    post(anonymous, "/i18n/setlang/", {"language": language, "next": next_})


@FUZZ
@given(token=TEXT, field=TEXT)
def test_the_contact_confirmation_and_invitation_links(anonymous, token, field):
    for path in (
        f"/en/contacts/confirm/{quote(token, safe='')}/",
        f"/en/invitations/{quote(token, safe='')}/",
    ):
        get(anonymous, path)
        post(anonymous, path, {"anything": field})


# Forms of a signed-in person


@FUZZ
@given(oid=TEXT)
def test_the_notification_start(signed_in, oid):
    post(signed_in, "/en/notify/", {"oid": oid})
    get(signed_in, "/en/notify/", {"oid": oid})


NOTIFICATION_FIELDS = sorted(valid_post(token="x", acceptance=False)) + [
    "accepter_name",
    "accepter_title",
    "accept_terms",
    "authority_confirmed",
    "terms_version",
    "add_contact",
]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(NOTIFICATION_FIELDS), TEXT, min_size=1, max_size=4))
def test_the_notification_form_and_its_steps(signed_in, changes):
    post(signed_in, FORM, valid_post(**changes))
    get(signed_in, CHECK)
    post(signed_in, SUBMIT, {"token": changes.get("token", "")})


@FUZZ
@given(fields=st.dictionaries(TEXT, TEXT, max_size=3))
def test_withdrawing(signed_in, alice, terms, fields):
    waiting = Registration.objects.filter(status=Registration.Status.SUBMITTED).first()
    if waiting is None:
        waiting = notification(terms, user=alice)
    post(signed_in, f"/en/registrations/{waiting.pk}/withdraw/", fields)


# Bodies in odd encodings, to every form at once


BODY_PATHS = ["/en/accounts/login/code/", "/i18n/setlang/", "/en/notify/", FORM]


@FUZZ
@given(body=st.binary(max_size=300), charset=CHARSETS, path=st.sampled_from(BODY_PATHS))
def test_a_form_body_in_any_bytes_and_charset(signed_in, body, charset, path):
    before = counts()
    response = signed_in.generic(
        "POST", path, body, content_type=f"application/x-www-form-urlencoded{charset}"
    )
    answered(response, before)


@FUZZ
@given(value=st.binary(max_size=200), name=st.binary(min_size=1, max_size=20))
def test_a_multipart_form_in_any_bytes(signed_in, value, name):
    boundary = b"fuzzboundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="'
        + name
        + b'"\r\n\r\n'
        + value
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    before = counts()
    response = signed_in.generic(
        "POST", "/en/notify/", body, content_type="multipart/form-data; boundary=fuzzboundary"
    )
    answered(response, before)


# Query parameters and addresses


REGISTER = ["/members/", "/en/members/", "/api/members.json", "/api/members.csv", "/en/api/"]


@FUZZ
@given(
    path=st.sampled_from(REGISTER),
    params=st.dictionaries(
        st.sampled_from(["q", "kind", "sector", "sort", "page"]), TEXT, max_size=4
    ),
)
def test_the_member_register_filters_search_and_pages(anonymous, lempaala, path, params):
    get(anonymous, path, params)


@FUZZ
@given(
    name=st.binary(max_size=20),
    value=st.binary(max_size=200),
    path=st.sampled_from(REGISTER + ["/en/accounts/login/", "/en/", "/en/terms/"]),
)
def test_any_bytes_in_a_query_string(anonymous, name, value, path):
    before = counts()
    response = anonymous.get(f"{path}?{quote_from_bytes(name)}={quote_from_bytes(value)}")
    answered(response, before)


@FUZZ
@given(
    next_=TEXT,
    path=st.sampled_from(
        [
            "/en/accounts/login/",
            "/en/accounts/login/code/",
            "/en/accounts/logout/",
            "/en/accounts/signup/",
        ]
    ),
)
def test_the_next_parameter(anonymous, next_, path):
    get(anonymous, path, {"next": next_})


@FUZZ
@given(segment=st.one_of(TEXT, st.binary(max_size=50).map(quote_from_bytes)))
def test_any_text_in_an_address(signed_in, terms, segment):
    quoted = segment if "%" in segment else quote(segment, safe="")
    for path in (
        f"/terms/{quoted}.json",
        f"/en/terms/{quoted}.json",
        f"/en/notify/{quoted}/",
        f"/en/organisations/{quoted}/",
        f"/{quoted}",
    ):
        get(signed_in, path)


HEADER_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=0x00, max_codepoint=0xFF), max_size=300),  # as WSGI gives
    st.sampled_from(["*", "fi;q=nan", "sv-FI,sv;q=0.9,en;q=0.8", '"x"', "W/", "\t", "\x00"]),
)
HEADERS = [
    "accept-language",
    "if-none-match",
    "if-modified-since",
    "referer",
    "user-agent",
    "x-forwarded-for",
    "cookie",
]


@FUZZ
@given(
    headers=st.dictionaries(st.sampled_from(HEADERS), HEADER_TEXT, min_size=1, max_size=3),
    path=st.sampled_from(["/", "/en/members/", "/api/members.json", "/en/accounts/login/"]),
)
def test_any_header(anonymous, lempaala, headers, path):
    before = counts()
    answered(anonymous.get(path, headers=headers), before)


# Import files: whatever the bytes, the import reads the file or says why not; it never raises


@FUZZ
@given(data=st.one_of(st.binary(max_size=2_000), st.text(max_size=2_000).map(str.encode)))
def test_any_bytes_as_an_import_file(data):
    parsed = parse_legacy_members(data)
    assert parsed.rows or parsed.errors


@FUZZ
@given(header=st.lists(st.sampled_from(HEADER), max_size=15), cells=st.lists(TEXT, max_size=15))
def test_any_cells_in_an_import_file(header, cells):
    parsed = parse_legacy_members(csv_bytes([cells], header=header))
    assert parsed.rows or parsed.errors


@FUZZ
@given(
    part=st.sampled_from([SHEET, "xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml"]),
    at=st.integers(0, 10_000),
    length=st.integers(0, 50),
    inserted=st.binary(max_size=50),
)
def test_a_workbook_with_any_part_damaged(part, at, length, inserted):
    good = xlsx_bytes(lempaala_rows())
    xml = zipfile.ZipFile(io.BytesIO(good)).read(part)
    at = at % (len(xml) + 1)
    parsed = parse_legacy_members(
        xlsx_with_part(good, part, xml[:at] + inserted + xml[at + length :])
    )
    assert parsed.rows or parsed.errors
