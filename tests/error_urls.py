"""The portal's addresses plus one whose view fails as when the database is down (500 page)."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.db import OperationalError
from django.urls import path

from portal import urls as portal_urls


def database_down(request):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


urlpatterns = [
    *i18n_patterns(path("database-down/", database_down), prefix_default_language=False),
    *portal_urls.urlpatterns,
]
handler500 = portal_urls.handler500
handler400 = portal_urls.handler400
