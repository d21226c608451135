"""OPH staff review notifications in the admin: the queue, the differences, the decision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import (
    ContactPerson,
    Organisation,
    OutgoingEmail,
    Registration,
    TermsAcceptance,
)
from onboarding.selectors import current_terms
from tests.factories import (
    ALICE,
    BOB,
    LEMPAALA,
    LEMPAALA_IT,
    ContactPersonFactory,
    OrganisationFactory,
    contact,
    notification,
    notification_data,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("terms")]


def submit(*, oid=LEMPAALA, contacts=None, submitted_at=None, user=None, **organisation):
    """Lempäälä's notification (its name in Finnish only), accepting the terms in force."""
    terms = current_terms()
    data = notification_data(
        terms, oid=oid, contacts=contacts, **{"name_sv": "", "name_en": "", **organisation}
    )
    return notification(
        terms, user=user, data=data, user_agent="Firefox", submitted_at=submitted_at
    )


def test_the_queue_lists_pending_notifications_oldest_first_with_their_age(admin_client):
    now = timezone.now()
    newer = submit(oid="1.2.246.562.10.00000000001", submitted_at=now - timedelta(hours=2))
    older = submit(oid="1.2.246.562.10.00000000002", submitted_at=now - timedelta(days=3))
    decided = submit(oid="1.2.246.562.10.00000000003")
    Registration.objects.filter(pk=decided.pk).update(status="rejected")
    response = admin_client.get(reverse("admin:onboarding_pendingregistration_changelist"))
    assert list(response.context["cl"].result_list) == [older, newer]
    assert "3\xa0days" in response.content.decode()


def test_the_review_page_marks_what_a_legacy_members_notification_changes(admin_client):
    organisation = OrganisationFactory(
        oid=LEMPAALA, name_fi="Lempäälä", membership="legacy_contract"
    )
    ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")
    ContactPersonFactory(
        organisation=organisation,
        email=LEMPAALA_IT,
        role="technical",
        name="Teemu Tekninen",
        language="sv",
    )
    registration = submit()
    response = admin_client.get(
        reverse("admin:onboarding_registration_change", args=[registration.pk])
    )
    page = response.content.decode()
    rows = {row.label: row for row in response.context["rows"]}
    assert rows["Name in Finnish"].changed
    assert (rows["Name in Finnish"].submitted, rows["Name in Finnish"].current) == (
        "Lempäälän kunta",
        "Lempäälä",
    )
    states = {change.contact.email: change.state for change in response.context["contacts"]}
    assert states == {ALICE: "added", LEMPAALA_IT: "same", "vanha@lempaala.fi": "removed"}
    assert 'class="state-removed"' in page and 'class="changed"' in page
    use = rows["Use of test learner numbers"]
    assert not use.changed and (use.submitted, use.current) == ("", "")


def test_the_review_page_marks_a_changed_use_of_test_learner_numbers(admin_client):
    OrganisationFactory(oid=LEMPAALA, kind="both", test_learner_number_use="Staging only")
    registration = submit(kind="both")
    response = admin_client.get(
        reverse("admin:onboarding_registration_change", args=[registration.pk])
    )
    use = {row.label: row for row in response.context["rows"]}["Use of test learner numbers"]
    assert use.changed and (use.submitted, use.current) == ("", "Staging only")


def test_approving_from_the_review_page_makes_the_organisation_a_member(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submit()
    url = reverse("admin:onboarding_registration_change", args=[registration.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"decision": "approve"}, follow=True)
    assert "The notification was approved." in response.content.decode()
    organisation = Organisation.objects.get(oid=registration.oid)
    assert organisation.membership == Organisation.Membership.TERMS_ACCEPTED
    assert TermsAcceptance.objects.get().registration == registration
    decisions = registration.emails.filter(kind=OutgoingEmail.Kind.DECISION)
    assert {email.to for email in decisions} == {registration.submitted_by.email, ALICE}
    assert {email.status for email in decisions} == {"sent"}


def test_rejecting_needs_a_reason_and_keeps_the_notification_pending_without_one(admin_client):
    registration = submit()
    url = reverse("admin:onboarding_registration_change", args=[registration.pk])
    response = admin_client.post(url, {"decision": "reject", "reason": "  "})
    assert response.status_code == 200
    assert "Write the reason" in response.content.decode()
    registration.refresh_from_db()
    assert registration.is_pending


def test_requesting_changes_sends_the_reason(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submit()
    url = reverse("admin:onboarding_registration_change", args=[registration.pk])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url, {"decision": "request_changes", "reason": "Lisää tietosuojavastaava."}
        )
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CHANGES_REQUESTED
    decision = [m for m in mailoutbox if m.to == [registration.submitted_by.email]][-1]
    assert "Lisää tietosuojavastaava." in decision.body


def test_a_decided_notification_shows_no_decision_buttons_and_refuses_another(
    admin_client, charlie
):
    registration = submit()
    services.registration_reject(
        registration_id=registration.pk, reviewer=charlie, reason="Väärä OID"
    )
    url = reverse("admin:onboarding_registration_change", args=[registration.pk])
    assert 'value="approve"' not in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"decision": "approve"})
    assert "already decided" in response.content.decode()
    assert not ContactPerson.objects.exists()


def test_the_history_shows_who_decided(admin_client, admin_user):
    registration = submit()
    admin_client.post(
        reverse("admin:onboarding_registration_change", args=[registration.pk]),
        {"decision": "approve"},
    )
    history = admin_client.get(
        reverse("admin:onboarding_registration_history", args=[registration.pk])
    )
    assert history.status_code == 200
    assert admin_user.email in history.content.decode()
    org_history = admin_client.get(
        reverse(
            "admin:onboarding_organisation_history",
            args=[registration.organisation_id or Organisation.objects.get().pk],
        )
    )
    assert admin_user.email in org_history.content.decode()


@pytest.mark.parametrize("model", ["registration", "pendingregistration", "outgoingemail"])
def test_review_lists_cost_the_same_queries_for_many_rows(
    admin_client, django_assert_max_num_queries, model
):
    url = reverse(f"admin:onboarding_{model}_changelist")
    for n in range(2):
        submit(oid=f"1.2.246.562.10.{n:011d}")
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    for n in range(2, 22):
        submit(oid=f"1.2.246.562.10.{n:011d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)


def test_a_historical_version_can_be_read_but_not_saved_back(admin_client):
    registration = submit()
    admin_client.post(
        reverse("admin:onboarding_registration_change", args=[registration.pk]),
        {"decision": "reject", "reason": "Väärä OID"},
    )
    version = registration.history.earliest()
    url = reverse(
        "admin:onboarding_registration_simple_history", args=[registration.pk, version.history_id]
    )
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"status": "submitted", "oid": "1.2.246.562.10.00000000009"})
    assert response.status_code == 403
    registration.refresh_from_db()
    assert (registration.status, registration.oid) == ("rejected", LEMPAALA)


def test_the_database_keeps_what_was_submitted(admin_client):
    from django.db import ProgrammingError, connection, transaction

    registration = submit()
    with pytest.raises(ProgrammingError), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(data={"forged": True})
    # In SQL: the ORM would stop first at the emails that keep a link to the notification.
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM onboarding_registration WHERE id = %s", [registration.pk])
    Registration.objects.filter(pk=registration.pk).update(decision_reason="ok")


def test_the_review_page_lists_the_organisations_earlier_notifications(
    admin_client, django_assert_max_num_queries, alice, bob, charlie
):
    rejected = submit(user=bob)
    services.registration_reject(registration_id=rejected.pk, reviewer=charlie, reason="Väärä")
    withdrawn = submit(user=alice)
    services.registration_withdraw(registration_id=withdrawn.pk, user=alice)
    sent_back = submit(user=alice)
    services.registration_request_changes(
        registration_id=sent_back.pk, reviewer=charlie, reason="Lisää tietosuojavastaava."
    )
    correction = submit(user=alice)
    other_organisation = submit(oid="1.2.246.562.10.00000000002")

    with django_assert_max_num_queries(20):
        response = admin_client.get(
            reverse("admin:onboarding_registration_change", args=[correction.pk])
        )
    page = response.content.decode()
    listed = page.split('id="other-notifications"', 1)[1].split("</table>", 1)[0]
    assert list(response.context["other_registrations"]) == [sent_back, withdrawn, rejected]
    for earlier, sender, status in [
        (sent_back, ALICE, "Replaced by a newer notification"),
        (withdrawn, ALICE, "Withdrawn"),
        (rejected, BOB, "Rejected"),
    ]:
        link = reverse("admin:onboarding_registration_change", args=[earlier.pk])
        row = listed.split(f'href="{link}"', 1)[1].split("</tr>", 1)[0]
        assert sender in row and status in row
    assert reverse("admin:onboarding_registration_change", args=[other_organisation.pk]) not in (
        page
    )
    assert "Lisää tietosuojavastaava." in page  # what the correction was asked to change


def test_the_queue_shows_withdrawn_and_replaced_notifications_no_more(admin_client, alice, charlie):
    withdrawn = submit(oid="1.2.246.562.10.00000000001", user=alice)
    services.registration_withdraw(registration_id=withdrawn.pk, user=alice)
    replaced = submit(oid="1.2.246.562.10.00000000002", user=alice)
    services.registration_request_changes(
        registration_id=replaced.pk, reviewer=charlie, reason="Korjaa."
    )
    correction = submit(oid="1.2.246.562.10.00000000002", user=alice)
    response = admin_client.get(reverse("admin:onboarding_pendingregistration_changelist"))
    assert list(response.context["cl"].result_list) == [correction]


def test_a_withdrawn_notification_says_so_and_cannot_be_decided(admin_client, alice):
    registration = submit(user=alice)
    services.registration_withdraw(registration_id=registration.pk, user=alice)
    url = reverse("admin:onboarding_registration_change", args=[registration.pk])
    page = admin_client.get(url).content.decode()
    assert "Withdrawn" in page and ALICE in page
    assert 'value="approve"' not in page
    response = admin_client.post(url, {"decision": "approve"})
    assert "no longer waits for review: Withdrawn" in response.content.decode()
    assert not Organisation.objects.exists()


def test_the_decision_buttons_are_the_admins_own_buttons(admin_client):
    registration = submit()
    page = admin_client.get(
        reverse("admin:onboarding_registration_change", args=[registration.pk])
    ).content.decode()
    row = page.split('<div class="submit-row">', 1)[1].split("</div>", 1)[0]
    assert 'value="approve" class="button default"' in row
    assert 'value="request_changes" class="button"' in row
    assert 'value="reject" class="button"' in row


def test_the_queue_counts_its_notifications_in_the_languages_grammar(admin_client):
    page = admin_client.get("/admin/onboarding/pendingregistration/").content.decode()
    assert "0 käsiteltävää ilmoitusta" in page
    sv = admin_client.get("/sv/admin/onboarding/pendingregistration/").content.decode()
    assert "0 anmälningar att handlägga" in sv


def contacts_now(organisation: Organisation) -> dict[tuple[str, str], dict]:
    return {
        (person.email.lower(), person.role): {
            "name": person.name,
            "phone": str(person.phone),
            "language": person.language,
            "active": person.is_active,
        }
        for person in organisation.contacts.all()
    }


def test_approving_changes_the_contacts_exactly_as_the_review_page_said(admin_client):
    organisation = OrganisationFactory(oid=LEMPAALA)
    ContactPersonFactory(  # submitted again with the address in capitals, the number spaced
        organisation=organisation, email="Alice@Lempaala.fi", name="Alice Aaltonen"
    )
    ContactPersonFactory(
        organisation=organisation, email=LEMPAALA_IT, role="technical", name="Teemu T."
    )
    ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")
    registration = submit(
        contacts=[
            contact(ALICE, name="Alice Aaltonen", phone="040 123 4567"),
            contact(LEMPAALA_IT, "technical", name="Teemu Tekninen", language="sv"),
            contact("tietoturva@lempaala.fi", "security", name="Sanna Suojaaja"),
        ]
    )
    url = reverse("admin:onboarding_registration_change", args=[registration.pk])
    review = admin_client.get(url)
    said = {
        (change.contact.email.lower(), change.contact.role): (change.state, set(change.fields))
        for change in review.context["contacts"]
    }
    assert "changed: name, language" in review.content.decode()
    before = contacts_now(organisation)

    admin_client.post(url, {"decision": "approve"})

    after = contacts_now(organisation)
    done = {}
    for key, now in after.items():
        if key not in before:
            done[key] = ("added", set())
        elif before[key]["active"] and not now["active"]:
            done[key] = ("removed", set())
        else:
            fields = {f for f in ("name", "phone", "language") if before[key][f] != now[f]}
            done[key] = ("changed" if fields else "same", fields)
    expected = {
        (ALICE, "administrative"): ("same", set()),
        (LEMPAALA_IT, "technical"): ("changed", {"name", "language"}),
        ("tietoturva@lempaala.fi", "security"): ("added", set()),
        ("vanha@lempaala.fi", "administrative"): ("removed", set()),
    }
    assert said == expected
    assert done == said
    again = admin_client.get(url).context["contacts"]
    assert {change.state for change in again} == {"same"}  # nothing more to change
