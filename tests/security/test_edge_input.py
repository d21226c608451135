"""Input no page can use is refused at the edge (portal/input.py) with the portal's 400 page,
before it reaches a view or the database."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from onboarding.models import Registration
from tests.factories import LEMPAALA

pytestmark = pytest.mark.django_db

CHARACTERS = "The address or the form contained characters that cannot be used"
ENCODING = "The form was sent in a character encoding the portal cannot read."
GENERIC = "Your browser sent something the portal cannot handle"


def refused(response, message: str = CHARACTERS) -> str:
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    return page


@pytest.mark.parametrize(
    "path",
    [
        "/terms/2023-1%00.json",
        "/en/terms/2023-1%00.json",
        "/fi/terms/2023-1%00.json",
        f"/en/notify/{LEMPAALA}%00/",
        "/en/contacts/confirm/abc%01def/",
        "/api/members.json%0A",
    ],
)
def test_a_control_character_in_the_address_is_refused(client, terms, path):
    language = "en" if path.startswith("/en/") else "fi"  # the address's language
    page = client.get(path, headers={"accept-language": "en"}).content.decode()
    with translation.override(language):
        assert f'<html lang="{language}">' in page
        assert gettext(CHARACTERS + ", such as control characters.") in page


@pytest.mark.parametrize(
    "query", ["q=%00", "q=a%1Bb", "page=1%0B", "next=/%00", "%00=1", "sort=%7F"]
)
def test_a_control_character_in_a_query_parameter_is_refused(client, query):
    refused(client.get(f"/en/members/?{query}"))


def test_the_login_page_refuses_a_nul_in_where_to_go_next(client):
    refused(client.get("/en/accounts/login/?next=/en/notify/%00"))


@pytest.mark.parametrize("value", ["a\x00@koulu.fi", "\x1b[31m@koulu.fi", "x\x7f@koulu.fi"])
def test_a_control_character_in_a_form_field_is_refused(client, value):
    refused(client.post("/en/accounts/login/code/", {"email": value}))


def test_tabs_and_line_breaks_in_a_form_field_are_text(signed_in, terms):
    response = signed_in.post("/en/notify/", {"oid": f"\t{LEMPAALA}\r\n"})
    assert response.status_code in (200, 302)  # the form's own answer, not the edge's


def test_a_control_character_in_a_form_field_name_is_refused(client):
    refused(client.post("/en/accounts/login/code/", {"email\x00": "a@koulu.fi"}))


def test_a_control_character_in_a_header_is_refused(client):
    refused(client.get("/en/", headers={"user-agent": "Mozilla\x00/5.0"}))


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-le", "latin-1", "nonsense", ""])
def test_a_form_in_another_charset_is_refused(client, charset):
    body = "email=someone@koulu.fi".encode("utf-16" if charset.startswith("utf-16") else "ascii")
    response = client.generic(
        "POST",
        "/en/accounts/login/code/",
        body,
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    refused(response, ENCODING)


def test_a_multipart_form_in_another_charset_is_refused(client):
    body = b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\na@koulu.fi\r\n--b--\r\n'
    response = client.generic(
        "POST",
        "/en/accounts/login/code/",
        body,
        content_type="multipart/form-data; charset=utf-16; boundary=b",
    )
    refused(response, ENCODING)


def test_a_form_in_utf_8_passes(client, mailoutbox):
    response = client.generic(
        "POST",
        "/en/accounts/login/code/",
        b"email=someone%40koulu.fi",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert response.status_code == 302


def test_a_file_upload_with_binary_content_passes(admin_client):
    # A workbook is full of NUL bytes: a file's content is not a form value.
    data = b"PK\x03\x04\x00\x00\x01\x02" + bytes(range(256))
    response = admin_client.post(
        "/en/admin/onboarding/organisation/import/",
        {"file": SimpleUploadedFile("members.xlsx", data)},
    )
    assert response.status_code == 200
    assert "The file could not be read as an Excel workbook (.xlsx)." in response.content.decode()


def test_the_400_page_is_translated_by_the_address(client):
    page = refused(client.get("/en/terms/x%00.json"))
    assert '<html lang="en">' in page
    finnish = client.get("/terms/x%00.json")
    assert finnish.status_code == 400 and '<html lang="fi">' in finnish.content.decode()
    swedish = client.get("/sv/terms/x%00.json")
    assert swedish.status_code == 400 and '<html lang="sv">' in swedish.content.decode()


def test_the_400_page_reads_nothing_from_the_database(signed_in, django_assert_num_queries):
    with django_assert_num_queries(0):
        refused(signed_in.get("/en/terms/2023-1%00.json"))
    with django_assert_num_queries(0):
        refused(signed_in.post("/en/notify/", {"oid": "\x00"}))


def test_a_session_cookie_with_a_control_character_is_dropped(client):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/en/")
    assert response.status_code == 200


def test_djangos_own_400s_show_the_portals_400_page(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post("/en/accounts/login/code/", {f"f{n}": "x" for n in range(20)})
    refused(response, GENERIC)
    assert '<html lang="en">' in response.content.decode()


def test_a_host_not_allowed_shows_the_portals_400_page():
    response = Client(HTTP_HOST="evil.example").get("/en/")
    refused(response, GENERIC)


def test_nothing_is_saved_from_a_refused_notification(signed_in, terms):
    signed_in.post("/en/notify/", {"oid": LEMPAALA})
    response = signed_in.post(f"/en/notify/{LEMPAALA}/", {"name_fi": "Lempäälä\x00", "token": "x"})
    refused(response)
    assert not Registration.objects.exists()


@pytest.fixture
def signed_in(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_a_tab_pasted_into_the_register_search_is_text(client):
    response = client.get("/members/", {"q": "Lempäälä\tkunta"})

    assert response.status_code == 200
