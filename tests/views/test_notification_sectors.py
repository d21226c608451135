"""The sectors an organisation serves: stated on the notification (at least one), shown on the
check page and to the reviewer, and the organisation's once the notification is approved."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from onboarding import services
from onboarding.models import Organisation, Registration
from tests.factories import LEMPAALA, OrganisationFactory, notification, notification_data
from tests.notification_form import CHECK, FORM, SUBMIT, token_on, valid_post

pytestmark = pytest.mark.django_db


def test_sectors_go_from_the_form_through_the_check_page_to_the_approved_organisation(
    client, person, charlie, terms, django_capture_on_commit_callbacks
):
    post = {
        **valid_post(token_on(client.get(FORM).content.decode())),
        "sectors": ["vocational", "basic"],
    }

    assert client.post(FORM, post)["Location"] == CHECK
    check = client.get(CHECK).content.decode()
    assert "Basic education, Vocational education and training" in check
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SUBMIT, {"token": post["token"]})
    registration = Registration.objects.get()
    assert registration.submitted.organisation.sectors == ("basic", "vocational")

    services.registration_approve(registration_id=registration.pk, reviewer=charlie)

    assert Organisation.objects.get(oid=LEMPAALA).sectors == ["basic", "vocational"]


def test_a_notification_needs_at_least_one_sector(client, person, terms):
    post = valid_post(token_on(client.get(FORM).content.decode()))
    post.pop("sectors", None)

    page = client.post(FORM, post).content.decode()

    assert 'id="id_sectors_error"' in page and "Choose at least one sector." in page


@pytest.mark.parametrize(
    ("kind", "help_text"),
    [
        ("education_provider", "The sectors your users come from."),
        ("service_provider", "The sectors your services serve."),
        (
            "both",
            "Education providers: the sectors your users come from. Service providers: the "
            "sectors your services serve.",
        ),
    ],
)
def test_what_the_sectors_mean_depends_on_the_kind(client, person, terms, kind, help_text):
    post = valid_post(token_on(client.get(FORM).content.decode()), kind=kind, sectors="")

    page = client.post(FORM, post).content.decode()

    assert f'<div class="hint" id="id_sectors_helptext">{help_text}</div>' in page


def test_the_form_of_a_known_organisation_starts_with_its_sectors(client, person, lempaala, terms):
    Organisation.objects.filter(pk=lempaala.pk).update(sectors=["pre_primary"])

    page = client.get(FORM).content.decode()

    assert re.search(r'name="sectors" value="pre_primary"[^>]*\bchecked', page)
    assert not re.search(r'name="sectors" value="basic"[^>]*\bchecked', page)


def test_the_reviewer_sees_the_sectors_beside_the_organisations(admin_client, terms):
    OrganisationFactory(oid=LEMPAALA, sectors=["basic"], membership="legacy_contract")
    registration = notification(
        terms, data=notification_data(terms, sectors=("basic", "early_childhood"))
    )

    response = admin_client.get(
        reverse("admin:onboarding_registration_change", args=[registration.pk])
    )

    row = {row.label: row for row in response.context["rows"]}["Sectors"]
    assert (row.submitted, row.current) == (
        "Early childhood education, Basic education",
        "Basic education",
    )
    assert row.changed
