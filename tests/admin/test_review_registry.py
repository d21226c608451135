"""The review page shows what OPH's organisation registry says beside what was submitted, or
why the organisation is not verified; a reviewer may ask the registry again with one button."""

from __future__ import annotations

import html
import re
import socket
from datetime import date

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pytest_httpserver import HTTPServer

from onboarding.models import RegistryEntry
from onboarding.permissions import REVIEWERS
from onboarding.services.registry import registry_entry_refresh
from tests.factories import LEMPAALA, UserFactory, notification
from tests.registry.recorded import current

pytestmark = pytest.mark.django_db

PREFIX = "/organisaatio-service"
API = f"{PREFIX}/api/{LEMPAALA}"
RECHECK = {"recheck_registry": "1"}


@pytest.fixture
def registry(httpserver: HTTPServer, settings) -> HTTPServer:
    """OPH's organisation service on loopback, answering what each test says."""
    settings.ORGANISATION_SERVICE_URL = httpserver.url_for(PREFIX)
    settings.ORGANISATION_SERVICE_TIMEOUT = 0.5
    cache.clear()
    yield httpserver
    cache.clear()


def refuse_connections(settings) -> None:
    """From now on the service's address is a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ORGANISATION_SERVICE_URL = f"http://127.0.0.1:{port}{PREFIX}"
    cache.clear()


@pytest.fixture
def sent(terms):
    """Lempäälä's notification, waiting for review, as its form sent it."""
    return notification(terms)


def review_url(registration) -> str:
    return reverse("admin:onboarding_registration_change", args=[registration.pk])


def registry_section(page: str) -> str:
    """The page's registry part, as read."""
    part = page.split('<h2 id="registry">', 1)[1].split("<h2>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def registry_cell(page: str, label: str) -> str:
    """The registry's cell of the comparison row `label`, as written."""
    table = page.split('id="registry-comparison"', 1)[1].split("</table>", 1)[0]
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>.*?</tr>', table, re.S)[0]
    return re.findall(r"<td[^>]*>.*?</td>", row, re.S)[1]


# What the page says ----------------------------------------------------------------------------


def test_a_verified_organisation_shows_the_registrys_data_beside_the_submitted(
    admin_client, registry, sent
):
    registry.expect_request(API).respond_with_json(
        current(
            nimi={"fi": "Lempäälän kunta", "sv": "Lempäälä kommun"},
            tyypit=["organisaatiotyyppi_01", "organisaatiotyyppi_09"],
        )
    )
    entry = registry_entry_refresh(oid=LEMPAALA)
    page = admin_client.get(review_url(sent)).content.decode()
    said = registry_section(page)
    checked = date_format(timezone.localtime(entry.checked_at), "DATETIME_FORMAT")
    assert f"Verified at OPH on {checked}" in said
    assert "Education provider, Municipality" in said and "Active" in said
    assert 'class="changed"' in registry_cell(page, "Name in Swedish")  # Lembois was sent
    assert "Lempäälä kommun" in registry_cell(page, "Name in Swedish")
    assert 'class="changed"' not in registry_cell(page, "Name in Finnish")
    assert 'class="changed"' not in registry_cell(page, "Name in English")  # it has none
    assert "Check again at OPH" in page


def test_a_business_id_that_fails_the_check_is_shown_as_the_registrys_and_marked(
    admin_client, sent
):
    RegistryEntry.objects.create(
        oid=LEMPAALA, found=True, name_fi="Lempäälän kunta", business_id="0150783-2",
        checked_at=timezone.now(),
    )  # fmt: skip
    page = admin_client.get(review_url(sent)).content.decode()
    cell = registry_cell(page, "Business ID (Y-tunnus)")
    assert "0150783-2" in cell and "fails the Y-tunnus check" in cell and 'class="changed"' in cell


def test_a_closed_organisation_is_marked_with_its_status_and_closing_date(admin_client, sent):
    RegistryEntry.objects.create(
        oid=LEMPAALA, found=True, name_fi="Lempäälän kunta", status="PASSIIVINEN",
        closed_on=date(2024, 7, 31), checked_at=timezone.now(),
    )  # fmt: skip
    page = admin_client.get(review_url(sent)).content.decode()
    assert "closed or closing in the registry" in registry_section(page)
    assert 'class="closed"' in registry_cell(page, "Status")
    assert date_format(date(2024, 7, 31)) in registry_cell(page, "Closing date")


@pytest.mark.parametrize(
    ("snapshot", "reason"),
    [
        (None, "has not been asked about this OID yet"),
        ({"last_failure": "timeout"}, "did not answer in time"),
        ({"found": False, "checked_at": timezone.now()}, "has no organisation with this OID"),
    ],
    ids=["never-asked", "could-not-ask", "not-found"],
)
def test_an_unverified_organisation_says_why(admin_client, registry, sent, snapshot, reason):
    if snapshot is not None:
        RegistryEntry.objects.create(oid=LEMPAALA, **snapshot)
    page = admin_client.get(review_url(sent)).content.decode()
    said = registry_section(page)
    assert said.startswith("In OPH's organisation service Not verified:") and reason in said
    assert 'id="registry-comparison"' not in page
    assert "Check again at OPH" in page


def test_with_lookups_off_the_page_says_so_and_offers_no_recheck(admin_client, sent):
    said = registry_section(admin_client.get(review_url(sent)).content.decode())
    assert "Not verified: Lookups in OPH's organisation service are off." in said
    assert "Check again at OPH" not in said


def test_the_review_page_costs_a_bounded_number_of_queries(
    admin_client, sent, registry, django_assert_max_num_queries
):
    registry.expect_request(API).respond_with_json(current())
    registry_entry_refresh(oid=LEMPAALA)
    with django_assert_max_num_queries(20):
        admin_client.get(review_url(sent))
    assert len(registry.log) == 1  # reading the page asks nothing


# The re-check -----------------------------------------------------------------------------------


def test_a_recheck_asks_the_registry_now_and_shows_its_new_answer(admin_client, registry, sent):
    registry.expect_oneshot_request(API).respond_with_json(current())
    registry_entry_refresh(oid=LEMPAALA)  # cached too: the re-check must not use it
    registry.expect_request(API).respond_with_json(current(status="PASSIIVINEN"))
    response = admin_client.post(review_url(sent), RECHECK, follow=True)
    assert response.redirect_chain == [(review_url(sent), 302)]
    page = response.content.decode()
    assert "Checked in OPH&#x27;s organisation service." in page
    assert "closed or closing in the registry" in registry_section(page)
    assert RegistryEntry.objects.get(oid=LEMPAALA).status == "PASSIIVINEN"
    assert len(registry.log) == 2


def test_a_recheck_that_cannot_ask_says_why_and_keeps_the_last_answer(
    admin_client, registry, sent, settings
):
    registry.expect_request(API).respond_with_json(current())
    registry_entry_refresh(oid=LEMPAALA)
    refuse_connections(settings)
    response = admin_client.post(review_url(sent), RECHECK, follow=True)
    page = response.content.decode()
    assert "Could not ask OPH&#x27;s organisation service" in page
    said = registry_section(page)
    assert "Verified at OPH on" in said and "could not ask" in said
    assert "could not be reached" in said and "Lempäälän kunta" in said
    entry = RegistryEntry.objects.get(oid=LEMPAALA)
    assert entry.is_verified and entry.last_failure == "unreachable"


def test_a_recheck_of_a_server_error_says_so(admin_client, registry, sent):
    registry.expect_request(API).respond_with_data("", status=500)
    page = admin_client.post(review_url(sent), RECHECK, follow=True).content.decode()
    assert (
        "Could not ask OPH&#x27;s organisation service: OPH&#x27;s organisation service had" in page
    )
    assert "Not verified: OPH's organisation service had an error." in registry_section(page)


def test_a_recheck_with_lookups_off_asks_nothing(admin_client, sent):
    page = admin_client.post(review_url(sent), RECHECK, follow=True).content.decode()
    assert "Lookups in OPH&#x27;s organisation service are off." in page
    assert not RegistryEntry.objects.exists()


def test_a_recheck_needs_the_csrf_token(admin_user, registry, sent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(review_url(sent), RECHECK).status_code == 403
    assert not registry.log


def test_a_reviewer_may_recheck(client, charlie, registry, sent):
    charlie.groups.add(Group.objects.get(name=REVIEWERS))
    TOTP.activate(charlie, generate_totp_secret())
    client.force_login(charlie)
    registry.expect_request(API).respond_with_json(current())
    response = client.post(review_url(sent), RECHECK)
    assert response.status_code == 302
    assert RegistryEntry.objects.get(oid=LEMPAALA).is_verified


def test_staff_who_may_only_read_notifications_cannot_recheck(client, registry, sent):
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_registration"))
    TOTP.activate(reader, generate_totp_secret())
    client.force_login(reader)
    assert "Check again at OPH" not in client.get(review_url(sent)).content.decode()
    assert client.post(review_url(sent), RECHECK).status_code == 403
    assert not registry.log and not RegistryEntry.objects.exists()


def test_a_person_who_is_not_staff_cannot_recheck(client, mallory, registry, sent):
    client.force_login(mallory)
    response = client.post(review_url(sent), RECHECK)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not registry.log and not RegistryEntry.objects.exists()
