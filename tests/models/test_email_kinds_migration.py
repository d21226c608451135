"""Emails written before they had a kind get it, and the links to their causes, from their old
keys (migration 0008); their keys take the new form, so that nothing is sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from onboarding import emails
from onboarding.models import CampaignMessage, OutgoingEmail
from onboarding.services.campaigns import campaign_create, campaign_launch
from tests.factories import ContactPersonFactory, OrganisationFactory, UserFactory, submit

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("onboarding", "0007_campaign_names")]


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """The test goes back to the schema before 0008: the next test finds the latest."""
    yield
    call_command("migrate", "onboarding", verbosity=0)


def test_old_emails_get_their_kind_links_and_a_key_in_the_new_form(terms):
    registration, _created = submit(terms, user=UserFactory(email="riikka@lempaala.fi"))
    member = OrganisationFactory(name_fi="Aaltola", membership="legacy_contract")
    ContactPersonFactory(organisation=member, email="rehtori@aaltola.fi")
    campaign = campaign_create(
        terms_version=terms, deadline=timezone.localdate() + timedelta(days=90), audience="legacy"
    )
    campaign_launch(campaign_id=campaign.pk)
    CampaignMessage.objects.all().delete()
    OutgoingEmail.objects.all().delete()  # the old rows are written below, as they were
    r, c, o, t = registration.pk, campaign.pk, member.pk, terms.pk
    old = {
        f"receipt:{r}": "riikka@lempaala.fi",
        f"review:{r}:Kasittelija@OPH.fi": "Kasittelija@OPH.fi",
        f"decision:{r}:riikka@lempaala.fi": "riikka@lempaala.fi",
        f"campaign:{c}:{o}:invitation:rehtori@aaltola.fi": "rehtori@aaltola.fi",
        f"campaign:{c}:{o}:30:rehtori@aaltola.fi": "rehtori@aaltola.fi",
        f"campaign:{c}:{o}:lapsed:rehtori@aaltola.fi": "rehtori@aaltola.fi",
        f"campaign-summary:{c}:kasittelija@oph.fi": "kasittelija@oph.fi",
        f"terms-changed:{t}:{o}:rehtori@aaltola.fi": "rehtori@aaltola.fi",
        "receipt:999999": "poistettu@example.fi",  # its notification is gone
        "something-else:1": "x@example.fi",
    }
    _write_old_rows(old, campaign_pk=c, organisation_pk=o)

    call_command("migrate", "onboarding", verbosity=0)

    migrated = {
        email.to + " " + email.kind: (
            email.key,
            email.registration_id,
            email.campaign_id,
            email.terms_version_id,
            email.organisation_id,
        )
        for email in OutgoingEmail.objects.all()
    }
    assert migrated == {
        "riikka@lempaala.fi receipt": (f"receipt:{r}:riikka@lempaala.fi", r, None, None, None),
        "Kasittelija@OPH.fi to_review": (f"to_review:{r}:kasittelija@oph.fi", r, None, None, None),
        "riikka@lempaala.fi decision": (f"decision:{r}:riikka@lempaala.fi", r, None, None, None),
        "rehtori@aaltola.fi campaign_invitation": (
            f"campaign_invitation:{c}:{o}:rehtori@aaltola.fi",
            None,
            c,
            None,
            o,
        ),
        "rehtori@aaltola.fi campaign_reminder": (
            f"campaign_reminder:{c}:{o}:30:rehtori@aaltola.fi",
            None,
            c,
            None,
            o,
        ),
        "rehtori@aaltola.fi campaign_lapsed": (
            f"campaign_lapsed:{c}:{o}:rehtori@aaltola.fi",
            None,
            c,
            None,
            o,
        ),
        "kasittelija@oph.fi campaign_summary": (
            f"campaign_summary:{c}:kasittelija@oph.fi",
            None,
            c,
            None,
            None,
        ),
        "rehtori@aaltola.fi terms_changed": (
            f"terms_changed:{t}:{o}:rehtori@aaltola.fi",
            None,
            None,
            t,
            o,
        ),
        "poistettu@example.fi receipt": (
            "receipt:999999:poistettu@example.fi",
            None,
            None,
            None,
            None,
        ),
        "x@example.fi ": ("something-else:1", None, None, None, None),
    }
    registration.refresh_from_db()
    receipt = emails.registration_receipt(registration)  # the same event: no second email
    assert receipt.key == f"receipt:{r}:riikka@lempaala.fi"
    assert OutgoingEmail.objects.count() == len(old)


def _write_old_rows(old: dict[str, str], *, campaign_pk: int, organisation_pk: int) -> None:
    """The rows as the code before 0008 wrote them, a campaign's with its message rows."""
    call_command("migrate", "onboarding", "0007_campaign_names", verbosity=0)
    apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    Email = apps.get_model("onboarding", "OutgoingEmail")
    Message = apps.get_model("onboarding", "CampaignMessage")
    for key, to in old.items():
        email = Email.objects.create(key=key, to=to, language="fi", subject="s", body_text="t")
        if key.startswith("campaign:"):
            Message.objects.create(
                campaign_id=campaign_pk,
                organisation_id=organisation_pk,
                step=key.split(":")[3],
                recipient=to,
                email=email,
            )
