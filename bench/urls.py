"""The portal's URLs plus a minimal view, for the benchmark of public pages only.

`bench.settings` names this module as ROOT_URLCONF in the gunicorn that `bench.public_pages`
starts; production's URLconf (portal.urls) never includes it. i18n_patterns must stay in the
root URLconf, so the portal's patterns are copied here rather than include()d.
"""

from django.http import HttpResponse
from django.urls import path

from portal.urls import handler400, handler500  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns


def minimal(request):
    """The least a Django page costs here: the same middleware, a constant body."""
    return HttpResponse(b"minimal", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *portal_urlpatterns]
