"""Staff import legacy members in the admin: upload, check what would happen, confirm."""

from __future__ import annotations

import os
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from onboarding.admin.legacy_import import SESSION_KEY
from onboarding.models import ContactPerson, LegacyContract, Organisation, OutgoingEmail
from onboarding.services.import_uploads import import_uploads_delete_abandoned
from tests.factories import OrganisationFactory, UserFactory, launched_campaign
from tests.importing import LEMPAALA, csv_bytes, lempaala_rows, many_rows, row, xlsx_bytes

pytestmark = pytest.mark.django_db

with translation.override("en"):  # staff reading the admin in English
    IMPORT = reverse("admin:onboarding_organisation_import")
    CONFIRM = reverse("admin:onboarding_organisation_import_confirm")
    CHANGELIST = reverse("admin:onboarding_organisation_changelist")


ENGLISH = {"accept-language": "en"}  # staff may read the admin in any language; tests in English


def upload(client, data: bytes, name: str = "members.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)}, headers=ENGLISH)


def confirm(client, token: str | None = None):
    if token is None:
        token = client.session[SESSION_KEY]["token"]
    return client.post(CONFIRM, {"token": token}, follow=True, headers=ENGLISH)


def nothing_imported() -> bool:
    return not any(m.objects.exists() for m in (Organisation, ContactPerson, LegacyContract))


def staff(*permissions: str):
    user = UserFactory(is_staff=True)
    TOTP.activate(user, generate_totp_secret())
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="onboarding", codename__in=permissions)
    )
    return user


def test_the_organisation_list_links_to_the_import(admin_client):
    response = admin_client.get(CHANGELIST)
    assert f'href="{IMPORT}"'.encode() in response.content


def test_the_upload_page_lists_the_columns(admin_client):
    response = admin_client.get(IMPORT, headers=ENGLISH)
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b"<code>contact_language</code>" in response.content


def test_upload_preview_confirm(admin_client, admin_user):
    OrganisationFactory(oid=LEMPAALA, name_fi="Vanha nimi")

    preview = upload(admin_client, csv_bytes(lempaala_rows(), delimiter=";", bom=True))

    assert preview.status_code == 200
    assert preview.context["errors"] == ()
    organisations, contacts, contracts = (count for _what, count in preview.context["counts"])
    assert (organisations.created, organisations.updated, contacts.created) == (1, 1, 3)
    assert contracts.created == 2
    assert Organisation.objects.get(oid=LEMPAALA).name_fi == "Vanha nimi"  # nothing written
    assert not ContactPerson.objects.exists()
    assert f'action="{CONFIRM}"'.encode() in preview.content

    done = confirm(admin_client)

    assert done.redirect_chain == [(CHANGELIST, 302)]
    message = str(list(done.context["messages"])[0])
    assert "Organisations: 1 created, 1 updated, 0 unchanged." in message
    assert Organisation.objects.get(oid=LEMPAALA).name_fi == "Lempäälän kunta"
    assert ContactPerson.objects.count() == 3
    assert SESSION_KEY not in admin_client.session
    record = ContactPerson.history.first()
    assert record.history_user == admin_user  # who imported, in the history


def test_an_xlsx_workbook_is_imported_too(admin_client):
    preview = upload(admin_client, xlsx_bytes(lempaala_rows()), "jasenet.xlsx")
    assert preview.context["errors"] == ()
    confirm(admin_client)
    assert Organisation.objects.count() == 2


def test_errors_are_shown_with_their_rows_and_columns_and_nothing_can_be_imported(admin_client):
    rows = [*lempaala_rows(), row(business_id="0150783-2", contact_email="uusi@lempaala.fi")]
    rows[0]["contact_email"] = "riikka-at-lempaala.fi"

    preview = upload(admin_client, csv_bytes(rows))

    assert preview.status_code == 200
    assert [(e.row, e.column) for e in preview.context["errors"]] == [
        (2, "contact_email"),
        (5, "business_id"),
    ]
    html = preview.content.decode()
    assert "<td>5</td><td><code>business_id</code></td>" in html
    assert CONFIRM not in html
    assert SESSION_KEY not in admin_client.session
    assert nothing_imported()


def test_missing_columns_are_shown(admin_client):
    preview = upload(admin_client, csv_bytes([row()], header=["oid", "name_fi"]))
    assert "kind, contract_reference, contact_name" in preview.content.decode()


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("members.txt", 10, "Upload a CSV file (.csv) or an Excel workbook (.xlsx)."),
        ("members.csv", 10 * 1024 * 1024 + 1, "The file is too large: at most 10.0\xa0MB."),
    ],
)
def test_only_csv_and_xlsx_files_up_to_10_mb_are_taken(admin_client, name, size, message):
    response = upload(admin_client, b"x" * size, name)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]


def test_the_confirmation_checks_the_file_again(admin_client, settings):
    upload(admin_client, csv_bytes([row(oid="1.2.246.562.99.00000000001")]))
    settings.ALLOW_TEST_ORGANISATIONS = False  # what was valid at the preview is not any more

    response = confirm(admin_client)

    assert response.redirect_chain == []
    assert [(e.row, e.column) for e in response.context["errors"]] == [(2, "oid")]
    assert nothing_imported()


def test_a_confirmation_needs_the_token_of_the_upload_waiting_in_the_session(admin_client):
    response = confirm(admin_client, token="guess")
    assert response.redirect_chain == [(IMPORT, 302)]
    upload(admin_client, csv_bytes([row()]))
    response = confirm(admin_client, token="guess")
    assert response.redirect_chain == [(IMPORT, 302)]
    assert nothing_imported()


def test_a_confirmation_is_imported_once(admin_client):
    upload(admin_client, csv_bytes([row()]))
    token = admin_client.session[SESSION_KEY]["token"]
    confirm(admin_client, token)
    again = confirm(admin_client, token)
    assert again.redirect_chain == [(IMPORT, 302)]
    assert Organisation.history.count() == 1


def waiting_since(client, *, hours_ago: float) -> str:
    """Backdates the upload waiting in the client's session; returns its storage name."""
    name = client.session[SESSION_KEY]["path"]
    when = time.time() - hours_ago * 3600
    os.utime(default_storage.path(name), (when, when))
    return name


def test_an_upload_confirmed_within_a_day_outlives_the_nightly_sweep(admin_client):
    upload(admin_client, csv_bytes([row()]))
    name = waiting_since(admin_client, hours_ago=23)

    assert name not in import_uploads_delete_abandoned()
    done = confirm(admin_client)

    assert done.redirect_chain == [(CHANGELIST, 302)]
    assert Organisation.objects.count() == 1
    assert not default_storage.exists(name)  # the confirmation took it


def test_an_upload_nobody_confirmed_within_a_day_is_deleted_and_must_be_uploaded_again(
    admin_client,
):
    upload(admin_client, csv_bytes([row()]))
    name = waiting_since(admin_client, hours_ago=25)

    assert name in import_uploads_delete_abandoned()
    done = confirm(admin_client)

    assert not default_storage.exists(name)
    assert done.redirect_chain == [(IMPORT, 302)]
    messages = [str(m) for m in done.context["messages"]]
    assert messages == ["The uploaded file was lost: upload it again."]
    assert SESSION_KEY not in admin_client.session
    assert nothing_imported()


def test_the_confirmation_takes_only_a_post(admin_client):
    assert admin_client.get(CONFIRM).status_code == 405


def test_staff_need_the_permission_to_add_organisations(client):
    client.force_login(staff("view_organisation", "change_organisation"))
    assert client.get(IMPORT).status_code == 403
    assert upload(client, csv_bytes([row()])).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403
    assert f'href="{IMPORT}"'.encode() not in client.get(CHANGELIST).content
    assert nothing_imported()


def test_staff_with_the_permission_may_import(client):
    client.force_login(staff("view_organisation", "add_organisation"))
    assert client.get(IMPORT).status_code == 200
    upload(client, csv_bytes([row()]))
    confirm(client)
    assert Organisation.objects.count() == 1


def test_people_who_are_not_staff_are_sent_to_sign_in(client):
    client.force_login(UserFactory())
    response = client.get(IMPORT)
    assert response.status_code == 302
    assert nothing_imported()


def count_queries(client, data: bytes) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as preview:
        assert upload(client, data).context["errors"] == ()
    with CaptureQueriesContext(connection) as confirmation:
        confirm(client)
    return len(preview), len(confirmation)


def test_the_queries_do_not_grow_with_the_rows(admin_client, django_assert_max_num_queries):
    small = count_queries(admin_client, csv_bytes(many_rows(10)))  # 20 rows
    large = count_queries(admin_client, csv_bytes(many_rows(100, start=100)))  # 200 rows
    assert small == large
    # and again, when the file's organisations all exist
    existing_small = count_queries(admin_client, csv_bytes(many_rows(10)))
    with django_assert_max_num_queries(existing_small[0]):
        upload(admin_client, csv_bytes(many_rows(100, start=100)))
    with django_assert_max_num_queries(existing_small[1]):
        confirm(admin_client)


def test_the_preview_offers_the_running_campaign_for_the_new_members(admin_client, terms):
    campaign = launched_campaign(terms)

    preview = upload(admin_client, csv_bytes([row()])).content.decode()

    assert f'name="campaign" value="{campaign.pk}"' in preview
    assert "Add 1 organisation of this file to the running campaign" in preview
    assert "Lempäälän kunta" in preview
    token = admin_client.session[SESSION_KEY]["token"]
    done = admin_client.post(
        CONFIRM, {"token": token, "campaign": campaign.pk}, follow=True, headers=ENGLISH
    )
    assert "1 organisation joins and is invited at once." in done.content.decode()
    assert OutgoingEmail.objects.get().to == "riikka@lempaala.fi"
    assert campaign.targets.filter(organisation__oid=LEMPAALA).exists()


def test_the_preview_says_how_long_the_file_waits(admin_client):
    preview = upload(admin_client, csv_bytes([row()]))
    assert "Confirm within a day; after that, upload the file again." in preview.content.decode()
