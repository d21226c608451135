"""The Content-Security-Policy of every response: settings.CONTENT_SECURITY_POLICY, and for the
admin's pages the inline styles Django's admin writes itself.

Django's admin has no inline scripts, but it does write a <style> element on some change lists,
style attributes in its templates (and simple_history's) and from its widgets' scripts. The
portal's own pages, the sign-in and two-factor pages included, allow none.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

ADMIN_ADDITIONS = {"style-src": [UNSAFE_INLINE]}


def is_admin_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and "admin" in match.app_names


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if is_admin_page(request):
            parts.update = {**ADMIN_ADDITIONS, **(parts.update or {})}
        return parts
