from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from onboarding import urls_register
from onboarding.accounts import views as account_views
from portal import views as portal_views

admin.site.site_header = _("MPASSid administration")
admin.site.site_title = _("MPASSid administration")
admin.site.index_title = _("Members, terms and notifications")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The member register for programs: one address in every language.
    path("", include((urls_register.data_urlpatterns, "register_data"))),
    # For the monitor and systemd (deploy/README.md, "Health check"): no language, no session.
    path("healthz", portal_views.healthz, name="healthz"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    # Before allauth's own: staff get no sign-in code, and set up a second factor only through
    # their enrolment link (onboarding.accounts.views).
    path(
        "accounts/login/code/",
        account_views.request_login_code,
        name="account_request_login_code",
    ),
    path("accounts/2fa/totp/activate/", account_views.activate_totp, name="mfa_activate_totp"),
    path("accounts/", include("allauth.urls")),
    path("", include("onboarding.urls_register")),
    path("", include("onboarding.urls")),
    prefix_default_language=False,
)

# 403 and 404 are Django's own views with templates/<code>.html; the 400 and 500 pages need
# no database, no request data and no context processor.
handler500 = "onboarding.views.error_pages.server_error"
handler400 = "onboarding.views.error_pages.bad_request"
