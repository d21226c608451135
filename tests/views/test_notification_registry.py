"""The notification form asks OPH's organisation registry (served for real on loopback): it
prefills a new organisation's names and business ID, warns of a passive, closed or unknown
organisation, and works as without lookups when the registry cannot be asked."""

from __future__ import annotations

import html
import re
import socket
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from pytest_httpserver import HTTPServer

from onboarding import services
from onboarding.models import Registration, RegistryEntry
from tests.factories import LEMPAALA, notification
from tests.notification_form import CHECK, FORM, SUBMIT, token_on, valid_post
from tests.registry.recorded import current

pytestmark = pytest.mark.django_db

PREFIX = "/organisaatio-service"
API = f"{PREFIX}/api/{LEMPAALA}"


@pytest.fixture
def registry(httpserver: HTTPServer, settings) -> HTTPServer:
    """OPH's organisation service on loopback, answering what each test says."""
    settings.ORGANISATION_SERVICE_URL = httpserver.url_for(PREFIX)
    settings.ORGANISATION_SERVICE_TIMEOUT = 0.5
    cache.clear()
    yield httpserver
    cache.clear()


@pytest.fixture
def refused(settings) -> None:
    """The service's address is a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ORGANISATION_SERVICE_URL = f"http://127.0.0.1:{port}{PREFIX}"
    settings.ORGANISATION_SERVICE_TIMEOUT = 0.5
    cache.clear()


def asked(server: HTTPServer) -> int:
    return len(server.log)


def value_of(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)[0]
    found = re.search(r'\bvalue="([^"]*)"', tag)
    return html.unescape(found[1]) if found else ""


def hint_of(page: str, field_id: str) -> str:
    hint = re.search(rf'<div class="hint" id="{field_id}_helptext">(.*?)</div>', page, re.S)
    return html.unescape(hint[1]) if hint else ""


def warning_on(page: str) -> str:
    found = re.search(
        r'<div class="notice notice-warning" id="registry-warning".*?</div>', page, re.S
    )
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[0])).split()) if found else ""


# With the service up ---------------------------------------------------------------------------


def test_a_new_organisations_names_and_business_id_come_from_the_registry(
    client, person, terms, registry
):
    registry.expect_request(API).respond_with_json(current())
    page = client.get(FORM).content.decode()
    assert value_of(page, "name_fi") == "Lempäälän kunta"
    assert value_of(page, "name_sv") == "Lembois kommun"
    assert value_of(page, "name_en") == "Municipality of Lempäälä"
    assert value_of(page, "business_id") == "0150783-1"
    assert not warning_on(page)
    assert "In OPH's organisation service" not in page  # the prefill is the registry's
    request, _response = registry.log[0]
    assert request.headers["Caller-Id"] == "1.2.246.562.10.00000000001.mpassid-portal"
    assert RegistryEntry.objects.get(oid=LEMPAALA).is_verified


def test_the_person_may_correct_the_prefill_and_the_registrys_value_stays_beside_it(
    client, person, terms, registry
):
    registry.expect_request(API).respond_with_json(current())
    typed = valid_post(token_on(client.get(FORM).content.decode()), name_sv="Lempäälä kommun")
    assert client.post(FORM, typed).status_code == 302
    page = client.get(FORM).content.decode()  # back from the check page: the draft
    assert value_of(page, "name_sv") == "Lempäälä kommun"
    assert "In OPH's organisation service: Lembois kommun" in hint_of(page, "id_name_sv")
    assert client.get(CHECK).status_code == 200
    client.post(SUBMIT)
    assert Registration.objects.get().submitted.organisation.name_sv == "Lempäälä kommun"


def test_a_known_organisation_keeps_its_own_details_with_the_registrys_differing_ones_beside(
    client, person, terms, registry, lempaala
):
    registry.expect_request(API).respond_with_json(
        current(nimi={"fi": "Lempäälän kunta", "sv": "Lempäälä kommun"})
    )
    page = client.get(FORM).content.decode()
    assert value_of(page, "name_sv") == "Lembois kommun"  # the portal's, as before
    assert "In OPH's organisation service: Lempäälä kommun" in hint_of(page, "id_name_sv")
    assert "In OPH's organisation service" not in hint_of(page, "id_name_fi")  # the same


def test_a_correction_keeps_what_was_sent_not_the_registrys(
    client, person, terms, registry, charlie
):
    sent = notification(terms, user=person)
    services.registration_request_changes(
        registration_id=sent.pk, reviewer=charlie, reason="Lisää tietosuojavastaava."
    )
    registry.expect_request(API).respond_with_json(current(nimi={"fi": "Lempäälän uusi kunta"}))
    page = client.get(FORM).content.decode()
    assert value_of(page, "name_fi") == "Lempäälän kunta"
    assert "In OPH's organisation service: Lempäälän uusi kunta" in hint_of(page, "id_name_fi")


def test_a_business_id_that_fails_the_check_is_shown_not_filled_in(client, person, terms, registry):
    registry.expect_request(API).respond_with_json(current(ytunnus="0150783-2"))
    page = client.get(FORM).content.decode()
    assert value_of(page, "business_id") == ""
    assert "In OPH's organisation service: 0150783-2" in hint_of(page, "id_business_id")
    assert value_of(page, "name_fi") == "Lempäälän kunta"


PAST = (timezone.localdate() - timedelta(days=10)).isoformat()
COMING = (timezone.localdate() + timedelta(days=30)).isoformat()


@pytest.mark.parametrize(
    ("answer", "warning"),
    [
        (current(status="PASSIIVINEN"), "this organisation is passive"),
        (current(status="POISTETTU"), "this organisation is deleted"),
        (current(lakkautusPvm=PAST), "this organisation was closed on"),
        (current(lakkautusPvm=COMING), "this organisation closes on"),
        (
            current(status="PASSIIVINEN", lakkautusPvm="2024-07-31"),
            "is passive. Its closing date there is 31 July 2024.",
        ),
        (None, "has no organisation with this OID"),
    ],
    ids=["passive", "deleted", "closed", "closing", "passive-and-closed", "not-found"],
)
def test_a_passive_closed_or_unknown_organisation_is_warned_of(
    client, person, terms, registry, answer, warning
):
    registry.expect_request(API).respond_with_json(answer)
    response = client.get(FORM)
    assert response.status_code == 200
    shown = warning_on(response.content.decode())
    assert warning in shown and "Check the OID" in shown
    client.post(FORM, valid_post(token_on(response.content.decode())))
    assert warning in warning_on(client.get(CHECK).content.decode())  # and before sending
    assert len(registry.log) == 1  # the check page reads what the form stored


def test_the_closing_date_is_written_in_the_pages_language(client, person, terms, registry):
    registry.expect_request(API).respond_with_json(current(lakkautusPvm="2024-07-31"))
    assert "31 July 2024" in warning_on(client.get(FORM).content.decode())
    assert "31.7.2024" in warning_on(client.get(f"/notify/{LEMPAALA}/").content.decode())


def test_an_active_organisation_gets_no_warning(client, person, terms, registry):
    registry.expect_request(API).respond_with_json(current())
    assert not warning_on(client.get(FORM).content.decode())


def test_the_registry_is_asked_once_a_visit_and_never_on_a_post(client, person, terms, registry):
    registry.expect_request(API).respond_with_json(current(status="PASSIIVINEN"))
    page = client.get(FORM).content.decode()
    assert asked(registry) == 1
    refused_post = client.post(FORM, valid_post(token_on(page), name_fi=""))
    assert refused_post.status_code == 400
    assert "passive" in warning_on(refused_post.content.decode())  # from the stored snapshot
    client.post(FORM, {**valid_post(token_on(page)), "add_contact": "1"})
    assert asked(registry) == 1
    client.get(FORM)  # another visit minutes later: the cached answer
    assert asked(registry) == 1


# With the service down -------------------------------------------------------------------------


def test_a_refused_connection_leaves_the_form_as_without_lookups(client, person, terms, refused):
    response = client.get(FORM)
    page = response.content.decode()
    assert response.status_code == 200
    assert value_of(page, "name_fi") == "" and not warning_on(page)
    assert "organisation service" not in page.split("<form", 1)[1]  # no error shown
    assert client.post(FORM, valid_post(token_on(page))).status_code == 302
    assert client.post(SUBMIT).status_code == 302
    assert Registration.objects.get().oid == LEMPAALA
    assert RegistryEntry.objects.get(oid=LEMPAALA).last_failure == "unreachable"


def test_a_server_error_leaves_the_form_as_without_lookups(client, person, terms, registry):
    registry.expect_request(API).respond_with_data("Internal Server Error", status=500)
    response = client.get(FORM)
    page = response.content.decode()
    assert response.status_code == 200
    assert value_of(page, "name_fi") == "" and not warning_on(page)
    assert client.post(FORM, valid_post(token_on(page))).status_code == 302
    assert client.post(SUBMIT).status_code == 302
    entry = RegistryEntry.objects.get(oid=LEMPAALA)
    assert (entry.last_failure, entry.is_verified) == ("server_error", False)


def test_with_lookups_off_nothing_is_asked_or_stored(client, person, terms, settings):
    settings.ORGANISATION_SERVICE_URL = ""
    page = client.get(FORM).content.decode()
    assert value_of(page, "name_fi") == "" and not warning_on(page)
    assert "organisation service:" not in page
    client.post(FORM, valid_post(token_on(page)))
    assert not warning_on(client.get(CHECK).content.decode())
    assert not RegistryEntry.objects.exists()
