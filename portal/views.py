"""The portal's own address outside the onboarding pages: the health check."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from portal import health


@require_safe
@cache_control(no_store=True)
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the cache and the broker answer, 503 naming the failing ones.
    Reads neither the session nor the user, so it sets no cookie."""
    checks = health.run_checks()
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks},
        status=200 if healthy else 503,
    )
