"""The terms page: numbered sections OPH can point to (/terms/#section-4), a table of contents,
and the canonical document whose SHA-256 anyone can check."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import published_terms

pytestmark = pytest.mark.django_db

TERMS_EN = """1. The service
MPASSid is an identity brokering service provided by the Finnish National Agency for Education.

2. Parties and joining
These terms apply to organisations that have notified their joining of MPASSid.

3. Obligations of member organisations
An education provider ensures that:
1. every user has personal credentials;
2. every user has a learner number.

4. Processing of personal data
The education provider is the controller and the service provider the processor."""

HEADINGS = [
    "1. The service",
    "2. Parties and joining",
    "3. Obligations of member organisations",
    "4. Processing of personal data",
]


def sectioned_terms(**kwargs):
    return published_terms(text_en=TERMS_EN, **kwargs)


def contents_links(page: str) -> list[tuple[str, str]]:
    contents = re.search(r'<nav class="terms-contents".*?</nav>', page, re.DOTALL)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', contents)


def ids(page: str) -> Counter[str]:
    return Counter(re.findall(r'\bid="([^"]+)"', page))


def test_the_terms_are_shown_in_numbered_sections_with_anchors(client):
    sectioned_terms()
    page = client.get("/en/terms/").content.decode()
    for number, heading in enumerate(HEADINGS, start=1):
        assert f'<h3 id="section-{number}">{heading}</h3>' in page
    assert page.index("the controller and the service provider the processor") > page.index(
        'id="section-4"'
    )


def test_the_table_of_contents_links_to_each_section_in_order(client):
    sectioned_terms()
    page = client.get("/en/terms/").content.decode()
    links = contents_links(page)
    assert links == [(f"section-{n}", heading) for n, heading in enumerate(HEADINGS, start=1)]
    assert all(ids(page)[anchor] == 1 for anchor, _heading in links)
    assert page.index("terms-contents") < page.index('id="section-1"')


def test_a_numbered_list_inside_a_section_stays_part_of_it(client):
    sectioned_terms()
    page = client.get("/en/terms/").content.decode()
    section_3 = page[page.index('id="section-3"') : page.index('id="section-4"')]
    assert "1. every user has personal credentials;" in section_3
    assert "2. every user has a learner number." in section_3
    assert len(contents_links(page)) == 4


def test_a_text_without_numbered_headings_is_shown_whole_without_contents(client):
    published_terms(text_en="MPASSid is an identity brokering service.\n\nIt is free of charge.")
    page = client.get("/en/terms/").content.decode()
    assert "<p>MPASSid is an identity brokering service.</p>" in page
    assert "<p>It is free of charge.</p>" in page
    assert "terms-contents" not in page
    assert 'id="section-1"' not in page


def test_the_sections_and_contents_are_in_the_language_of_the_text_shown(client):
    published_terms(text_en="", text_fi="1. Palvelu\nMPASSid on maksuton.")
    page = client.get("/en/terms/").content.decode()
    assert '<ul lang="fi">' in page
    assert '<h3 id="section-1">1. Palvelu</h3>' in page


def test_the_canonical_link_says_it_is_the_hashed_evidence_and_how_to_check_it(client):
    sectioned_terms(version="2024-1")
    page = client.get("/en/terms/").content.decode()
    assert (
        '<a href="/en/terms/2024-1.json">'
        "the exact text whose SHA-256 is recorded as evidence, as JSON</a>"
    ) in page
    assert "run <code>sha256sum mpassid-terms-2024-1.json</code>" in page
    assert "the result must equal the SHA-256 shown here" in page


def test_the_sha256_shown_is_that_of_the_file_the_link_serves(client):
    terms = sectioned_terms(version="2024-1")
    page = client.get("/en/terms/").content.decode()
    shown, link = re.search(r'<code class="hash">(\w+)</code> \(<a href="([^"]+)">', page).groups()
    document = client.get(link)
    assert hashlib.sha256(document.content).hexdigest() == shown == terms.content_sha256
    assert 'filename="mpassid-terms-2024-1.json"' in document["Content-Disposition"]


def test_earlier_and_coming_versions_have_anchors_of_their_own(client):
    sectioned_terms(version="2023-1", effective_from=date(2023, 1, 1))
    sectioned_terms(version="2024-1", effective_from=date(2024, 1, 1))
    sectioned_terms(version="2099-1", effective_from=timezone.localdate() + timedelta(days=30))
    page = client.get("/en/terms/").content.decode()
    assert max(ids(page).values()) == 1
    current_at = page.index('id="section-4"')
    assert current_at < page.index('id="v2099-1-section-4"') < page.index('id="v2023-1-section-4"')
    assert [anchor for anchor, _heading in contents_links(page)] == [
        "section-1",
        "section-2",
        "section-3",
        "section-4",
    ]
    assert page.count('class="terms-contents"') == 1


def test_the_terms_page_reads_every_version_in_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    sectioned_terms(version="2023-1", effective_from=date(2023, 1, 1))
    sectioned_terms(version="2024-1", effective_from=date(2024, 1, 1))
    with django_assert_max_num_queries(10) as few:
        client.get("/en/terms/")
    for year in (2019, 2020, 2021, 2022):
        sectioned_terms(version=f"{year}-1", effective_from=date(year, 1, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/en/terms/")


@pytest.mark.parametrize(
    ("prefix", "heading"),
    [
        ("", "4. Henkilötietojen käsittely"),
        ("/sv", "4. Behandling av personuppgifter"),
        ("/en", "4. Processing of personal data"),
    ],
)
def test_the_demo_terms_point_to_section_4_for_personal_data_in_every_language(
    client, settings, prefix, heading
):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    page = client.get(f"{prefix}/terms/").content.decode()
    assert f'<h3 id="section-4">{heading}</h3>' in page
    assert len(contents_links(page)) == 6


def test_the_terms_page_reads_the_published_versions_once(client, django_assert_max_num_queries):
    sectioned_terms(version="2023-1", effective_from=date(2023, 1, 1))
    sectioned_terms(version="2099-1", effective_from=timezone.localdate() + timedelta(days=30))
    with django_assert_max_num_queries(10) as queries:
        page = client.get("/en/terms/").content.decode()
    reads = [q["sql"] for q in queries.captured_queries if "onboarding_termsversion" in q["sql"]]
    assert len(reads) == 1
    assert 'id="section-1"' in page and 'id="v2099-1-section-1"' in page  # current and coming
