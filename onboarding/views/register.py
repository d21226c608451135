"""The public member register: the page for people, the JSON and CSV for programs, the page
that documents them. Everything reads `register.current_register()`, built once per change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe

from onboarding import register
from onboarding.models.organisations import OrganisationKind, Sector
from onboarding.page_cache import cached_public_page

PER_PAGE = 50
SORTABLE = [
    ("name", _("Name")),
    ("oid", _("OID")),
    ("kind", _("Kind")),
    ("basis", _("Basis")),
    ("member_since", _("Member since")),
]

# The order is also a field of the form: the table's heading, with its sort links, is hidden
# on a phone (the rows become cards).
SORT_CHOICES = [
    (f"{sign}{key}", format_lazy(wording, column=label))
    for key, label in SORTABLE
    for sign, wording in (("", _("{column}, ascending")), ("-", _("{column}, descending")))
]


class RegisterFilters(forms.Form):
    """The page's search, filters and order: GET parameters, so that it works without
    JavaScript and every view of it has an address."""

    q = forms.CharField(label=_("Search by name or OID"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *OrganisationKind.choices]
    )
    sector = forms.ChoiceField(
        label=_("Sector"), required=False, choices=[("", _("All sectors")), *Sector.choices]
    )
    sort = forms.ChoiceField(label=_("Order"), required=False, choices=SORT_CHOICES)

    def criteria(self) -> dict[str, str]:
        """The valid criteria; an invalid one (a hand-edited address) is ignored."""
        if not self.is_valid():
            return {name: self.cleaned_data.get(name) or "" for name in ("q", "kind", "sector")}
        return {name: self.cleaned_data[name] for name in ("q", "kind", "sector", "sort")}


@dataclass(frozen=True)
class SortLink:
    label: str
    href: str
    aria_sort: str  # "ascending", "descending" or "none"


def _with(request, **changes) -> str:
    params = request.GET.copy()
    for name, value in changes.items():
        if value:
            params[name] = value
        else:
            params.pop(name, None)
    return f"?{params.urlencode()}" if params else "?"


def _sort_links(request, sort: str) -> list[SortLink]:
    links = []
    for key, label in SORTABLE:
        if sort.lstrip("-") == key:
            state = "descending" if sort.startswith("-") else "ascending"
            target = key if state == "descending" else f"-{key}"
        else:
            state, target = "none", key
        links.append(SortLink(str(label), _with(request, sort=target, page=""), state))
    return links


@require_safe
@cached_public_page
def members(request):
    form = RegisterFilters(request.GET or None)
    criteria = form.criteria() if form.is_bound else {}
    sort = criteria.get("sort") or "name"
    current = register.current_register()
    rows = register.member_register(
        query=criteria.get("q", ""),
        kind=criteria.get("kind", ""),
        sector=criteria.get("sector", ""),
        sort=sort,
        source=current,
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "onboarding/members.html",
        {
            "form": form if form.is_bound else RegisterFilters(),
            "page": page,
            "filtered": any(criteria.get(name) for name in ("q", "kind", "sector")),
            "total": len(current.rows),
            "columns": _sort_links(request, sort),
            "previous_href": _with(request, page=page.previous_page_number())
            if page.has_previous()
            else "",
            "next_href": _with(request, page=page.next_page_number()) if page.has_next() else "",
        },
    )


SCHEMA = Path(settings.BASE_DIR) / "docs" / "members.schema.json"


@require_safe
def members_schema(request):
    """The JSON Schema of /api/members.json, as kept in the repository."""
    response = HttpResponse(SCHEMA.read_bytes(), content_type="application/schema+json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def api(request):
    return render(
        request,
        "onboarding/api.html",
        {"columns": register.CSV_COLUMNS, "kinds": OrganisationKind, "sectors": Sector},
    )


# For programs: built once per change, answered from the cache; 304 when the client has it.


def _register(request) -> register.Register:
    """The register, read once per request (the validators and the body all ask)."""
    if not hasattr(request, "member_register"):
        request.member_register = register.current_register()
    return request.member_register


ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _gzip(request) -> bool:
    """The client takes a gzip body: it gets the copy compressed once per build."""
    return bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))


def _etag(fmt: str):
    """One ETag per body: the register's digest, the format and the encoding."""
    return lambda request: (
        f"{_register(request).digest[:40]}-{fmt}{'-gzip' if _gzip(request) else ''}"
    )


def _last_modified(request):
    return _register(request).last_modified


def _for_programs(view):
    view = condition(etag_func=_etag(view.__name__), last_modified_func=_last_modified)(view)
    view = cache_control(public=True, max_age=300)(view)
    view = require_safe(view)

    def cross_origin(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        patch_vary_headers(response, ["Accept-Encoding"])
        return response

    cross_origin.__name__ = cross_origin.__qualname__ = view.__name__
    return cross_origin


def _body(request, plain: bytes, compressed: bytes, content_type: str) -> HttpResponse:
    if not _gzip(request):
        return HttpResponse(plain, content_type=content_type)
    response = HttpResponse(compressed, content_type=content_type)
    response["Content-Encoding"] = "gzip"
    return response


@_for_programs
def members_json(request):
    current = _register(request)
    return _body(request, current.json_body, current.json_gzip, "application/json")


@_for_programs
def members_csv(request):
    current = _register(request)
    response = _body(request, current.csv_body, current.csv_gzip, "text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mpassid-members.csv"'
    return response
