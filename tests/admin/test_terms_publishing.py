"""Publishing terms from the admin: the confirmation page shows the text and its SHA-256, and
exactly that text is published; an edit at the same moment is told, never a server error."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django.urls import reverse

from onboarding import services
from onboarding.models import OutgoingEmail, TermsVersion
from tests.concurrency import at_once, until_another_waits_for_a_lock
from tests.factories import TermsVersionFactory

STALE = "The text was changed after you opened this page; check it again before publishing."


def publish_url(terms: TermsVersion) -> str:
    return reverse("admin:onboarding_termsversion_publish", args=[terms.pk])


def change_url(terms: TermsVersion) -> str:
    return reverse("admin:onboarding_termsversion_change", args=[terms.pk])


def edit(terms: TermsVersion, **changes) -> dict:
    """The draft's change form as a browser posts it, with `changes` typed."""
    post = {
        field: getattr(terms, field)
        for field in (
            "version",
            "title_fi",
            "title_sv",
            "title_en",
            "text_fi",
            "text_sv",
            "text_en",
            "change_summary_fi",
            "change_summary_sv",
            "change_summary_en",
        )
    }
    post["effective_from"] = terms.effective_from.isoformat()
    return post | changes


def shown_sha256(page) -> str:
    return page.context["content_sha256"]


def confirmed(page) -> dict:
    """What the confirmation page posts back: the hashes of what it showed."""
    return {name: page.context[name] for name in ("content_sha256", "announcement_sha256")}


def as_shown(terms: TermsVersion) -> dict:
    """What the confirmation page of `terms` as it is now posts back."""
    return {
        "content_sha256": terms.compute_content_sha256(),
        "announcement_sha256": services.terms_announcement_sha256(terms),
    }


@pytest.mark.django_db
def test_the_publish_action_opens_the_confirmation_page_of_the_draft(admin_client):
    draft = TermsVersionFactory()
    response = admin_client.post(
        reverse("admin:onboarding_termsversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    assert response.url == publish_url(draft)
    assert not TermsVersion.objects.get(pk=draft.pk).is_published


@pytest.mark.django_db
def test_the_draft_links_to_its_confirmation_page(admin_client):
    draft = TermsVersionFactory()
    page = admin_client.get(change_url(draft)).content.decode()
    assert publish_url(draft) in page


@pytest.mark.django_db
def test_the_confirmation_page_shows_the_text_and_the_hash_it_posts_back(admin_client):
    draft = TermsVersionFactory(text_fi="Ehdot & säännöt\nrivi kaksi", text_sv="Villkoren")
    page = admin_client.get(publish_url(draft))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ehdot &amp; säännöt\nrivi kaksi" in html
    assert "Villkoren" in html
    assert shown_sha256(page) == draft.compute_content_sha256()
    assert f'name="content_sha256" value="{draft.compute_content_sha256()}"' in html


@pytest.mark.django_db
def test_publishing_publishes_the_hash_that_was_shown(admin_client):
    draft = TermsVersionFactory()
    page = admin_client.get(publish_url(draft))
    shown = shown_sha256(page)
    response = admin_client.post(publish_url(draft), confirmed(page), follow=True)
    assert f"Version {draft.version} was published." in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.content_sha256 == shown


@pytest.mark.django_db
def test_a_stale_hash_is_refused_and_the_current_text_is_shown_to_check_again(admin_client):
    draft = TermsVersionFactory(text_fi="Vanha teksti")
    page = admin_client.get(publish_url(draft))
    shown = shown_sha256(page)
    draft.text_fi = "Toisen muuttama teksti"
    draft.save()

    response = admin_client.post(publish_url(draft), confirmed(page))

    assert response.status_code == 409
    page = response.content.decode()
    assert STALE in page
    assert "Toisen muuttama teksti" in page
    assert shown_sha256(response) == draft.compute_content_sha256() != shown
    assert not TermsVersion.objects.get(pk=draft.pk).is_published
    assert not OutgoingEmail.objects.exists()


@pytest.mark.django_db
def test_an_incomplete_draft_is_not_published_and_staff_are_told_which_field(admin_client):
    draft = TermsVersionFactory(text_sv="")
    response = admin_client.post(publish_url(draft), as_shown(draft))
    assert response.status_code == 400
    assert "Text in Swedish: This field cannot be blank." in response.content.decode()
    assert not TermsVersion.objects.get(pk=draft.pk).is_published


@pytest.mark.django_db
def test_saving_the_form_of_a_version_published_meanwhile_is_refused_with_what_was_typed(
    admin_client,
):
    draft = TermsVersionFactory()
    admin_client.post(publish_url(draft), as_shown(draft))

    response = admin_client.post(change_url(draft), edit(draft, text_fi="Minun korjaukseni"))

    assert response.status_code == 409
    page = response.content.decode()
    assert f"Version {draft.version} was published before your change was saved" in page
    assert "Minun korjaukseni" in page  # what they typed, to copy into a new version
    assert TermsVersion.objects.get(pk=draft.pk).text_fi == draft.text_fi


@pytest.mark.django_db
def test_deleting_a_version_published_meanwhile_is_refused_with_a_message(admin_client):
    draft = TermsVersionFactory()
    admin_client.post(publish_url(draft), as_shown(draft))
    response = admin_client.post(
        reverse("admin:onboarding_termsversion_delete", args=[draft.pk]), {"post": "yes"}
    )
    assert response.status_code == 409
    assert TermsVersion.objects.filter(pk=draft.pk).exists()


@pytest.mark.django_db
def test_a_draft_is_still_saved_as_before(admin_client):
    draft = TermsVersionFactory()
    response = admin_client.post(change_url(draft), edit(draft, text_fi="Korjattu"))
    assert response.status_code == 302
    assert TermsVersion.objects.get(pk=draft.pk).text_fi == "Korjattu"


@pytest.mark.django_db
def test_a_summary_of_changes_edited_after_the_page_was_opened_stops_the_publication(
    admin_client,
):
    draft = TermsVersionFactory(change_summary_fi="Pieni korjaus.")
    page = admin_client.get(publish_url(draft))
    assert "Pieni korjaus." in page.content.decode()
    draft.change_summary_fi = "Jotain aivan muuta, jota julkaisija ei nähnyt."
    draft.save()

    response = admin_client.post(publish_url(draft), confirmed(page))

    assert response.status_code == 409
    assert not TermsVersion.objects.get(pk=draft.pk).is_published
    assert not OutgoingEmail.objects.exists()


@pytest.mark.django_db
def test_a_post_without_the_hashes_publishes_nothing(admin_client):
    draft = TermsVersionFactory()
    assert admin_client.post(publish_url(draft), {}).status_code == 409
    assert not TermsVersion.objects.get(pk=draft.pk).is_published


@pytest.mark.django_db
def test_a_reviewer_may_not_publish_nor_change_terms(client, charlie):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.models import Group

    from onboarding.permissions import REVIEWERS

    charlie.groups.add(Group.objects.get(name=REVIEWERS))
    TOTP.activate(charlie, generate_totp_secret())
    client.force_login(charlie)
    draft = TermsVersionFactory()
    assert client.get(publish_url(draft)).status_code == 403
    assert client.post(publish_url(draft), as_shown(draft)).status_code == 403
    assert client.post(change_url(draft), edit(draft, text_fi="Ei")).status_code == 403
    assert not TermsVersion.objects.get(pk=draft.pk).is_published


# Two staff members at the same moment, each in their own connection -----------------------


@pytest.mark.django_db(transaction=True)
def test_an_edit_saved_while_the_publisher_confirms_stops_the_publication(admin_client):
    draft = TermsVersionFactory(text_fi="Luettu teksti")
    url = publish_url(draft)  # here: the other thread has no English active
    shown = confirmed(admin_client.get(url))
    edited = threading.Event()

    def edit_holding_the_lock():
        with transaction.atomic():
            locked = TermsVersion.objects.select_for_update().get(pk=draft.pk)
            locked.text_fi = "Toisen muuttama teksti"
            locked.save()
            edited.set()
            until_another_waits_for_a_lock("the publication")

    def publish_after_the_edit():
        assert edited.wait(timeout=10)
        return admin_client.post(url, shown)

    _, response = at_once(edit_holding_the_lock, publish_after_the_edit)

    assert response.status_code == 409
    assert STALE in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published
    assert draft.text_fi == "Toisen muuttama teksti"


@pytest.mark.django_db(transaction=True)
def test_an_edit_saved_while_the_version_is_being_published_is_told_not_a_500(admin_client):
    draft = TermsVersionFactory(text_fi="Luettu teksti")
    url = change_url(draft)  # here: the other thread has no English active
    published = threading.Event()

    def publish_holding_the_lock():
        with transaction.atomic():
            services.terms_publish(
                terms_version=draft, expected_sha256=draft.compute_content_sha256()
            )
            published.set()
            until_another_waits_for_a_lock("the edit")

    def edit_after_the_publication():
        assert published.wait(timeout=10)
        return admin_client.post(url, edit(draft, text_fi="Myöhästynyt korjaus"))

    _, response = at_once(publish_holding_the_lock, edit_after_the_publication)

    assert response.status_code == 409
    page = response.content.decode()
    assert "was published before your change was saved" in page
    assert "Myöhästynyt korjaus" in page
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.text_fi == "Luettu teksti"
    assert draft.content_sha256 == draft.compute_content_sha256()


@pytest.mark.django_db
@pytest.mark.parametrize("object_id", ["abc", "0", "99999999999999999999", "1 OR 1=1"])
def test_the_confirmation_page_of_no_such_version_is_never_a_server_error(admin_client, object_id):
    response = admin_client.get(reverse("admin:onboarding_termsversion_publish", args=[object_id]))
    assert response.status_code in (302, 404)
