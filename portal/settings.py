"""Settings for the MPASSid joining portal, all read from the environment (see .env.example).

With DEBUG on, everything has an embedded default (SQLite under var/, Celery tasks run eagerly,
emails printed to the console). With DEBUG off, the values that must not be guessed are required.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def required(name: str, default=None, cast=str):
    """A value that production must set; development falls back to `default`."""
    if env.ENVIRON.get(name, "").strip():
        return env.get_value(name, cast=cast)
    if DEBUG and default is not None:
        return default
    sys.exit(
        f"Configuration error: set the {name} environment variable (required when DEBUG is off)."
    )


SECRET_KEY = required("SECRET_KEY", default="django-insecure-development-only-key")
ALLOWED_HOSTS = required("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"], cast=list)
SITE_URL = required("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "pgtrigger",
    "phonenumber_field",
    "simple_history",
    "onboarding",
]

MIDDLEWARE = [
    # Outermost, so that every response gets both policies, also one another middleware answers.
    "portal.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.input.UnusableInputMiddleware",  # before anything reads the request's values
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.languages.PreferredLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onboarding.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite under var/ in development, DATABASE_URL (PostgreSQL) otherwise.
DATABASES = {
    "default": env.db_url_config(
        required("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: allauth keeps its rate-limit counters here, so production shares one (Redis).
CACHES = {"default": env.cache_url_config(required("CACHE_URL", default="locmemcache://"))}
# Seconds a worker serves the public pages and the register's data it has before asking the
# cache whether they changed (onboarding.register): a publication or approval shows at once on
# the worker that made it, on the others within this time. A cache in the process's own memory
# (development, tests) is asked every time.
PUBLIC_PAGES_RECHECK_SECONDS = 0.0 if CACHES["default"]["BACKEND"].endswith("LocMemCache") else 1.0
AUTH_USER_MODEL = "onboarding.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts: email address only, verified, sign-in by an emailed code.
ACCOUNT_LOGIN_METHODS = {"email"}
# No sign-up page (see AccountAdapter); "password1" keeps the password sign-in for staff.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# One step for everyone: the code sent to an address signs in its account, or creates it.
ACCOUNT_FORMS = {"request_login_code": "onboarding.accounts.forms.EmailCodeForm"}
ACCOUNT_ADAPTER = "onboarding.accounts.adapter.AccountAdapter"
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's rate limits stay at their defaults (on); ACCOUNT_RATE_LIMITS is not overridden.
ACCOUNT_EMAIL_SUBJECT_PREFIX = "MPASSid: "
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "onboarding:my_organisations"
ACCOUNT_LOGOUT_REDIRECT_URL = "onboarding:home"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "MPASSid"
# Staff reach the admin only after signing in with a second factor (off only in development).
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=not DEBUG)
# Staff never sign in by code nor reset their password by email: a superuser sends a one-time
# enrolment link (password, then second factor) that expires after this many hours.
STAFF_ENROLMENT_HOURS = env.int("STAFF_ENROLMENT_HOURS", default=72)
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "onboarding.accounts.tokens.PasswordResetTokens"
# No "unknown account" emails: a code creates the account, and a staff address gets an email
# on how staff sign in instead (onboarding.accounts.views).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Client addresses (rate limits, acceptance evidence) come from the one proxy in front of us.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)

# Languages: Finnish first, then Swedish and English.
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times as each language writes them (portal/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Helsinki")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files waiting for a confirmation (legacy member imports); never served publicly.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: printed to the console in development.
EMAIL_CONFIG = env.email_url_config(required("EMAIL_URL", default="consolemail://"))
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_BACKEND = "portal.mail.KeptOpenEmailBackend"  # one connection for many emails
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # a hung server must not hold a worker
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MPASSid <noreply@mpassid.fi>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
CUSTOMER_SERVICE_EMAIL = env.str("CUSTOMER_SERVICE_EMAIL", default="mpass@oph.fi")

# Celery: a Redis broker in production; without one, tasks run eagerly (development only).
CELERY_BROKER_URL = required("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://"
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task a killed worker held goes back to the queue after this. No email waits for it (the
# sweep below re-sends what is overdue); it must outlast the longest task (the weekly registry
# check) and retry countdown (5 min), or Redis would hand a running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
# Account emails (sign-in codes) go to their own queue, "account" (onboarding.tasks), the rest
# to this one; the worker consumes both (deploy/systemd/mpassid-worker.service).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_BEAT_SCHEDULE = {
    "send-due-reminders": {
        "task": "onboarding.tasks.send_due_reminders",
        "schedule": crontab(hour=8, minute=0),  # in CELERY_TIMEZONE, Europe/Helsinki
    },
    # Every minute: emails overdue (a lost task) are sent again, codes past their lifetime expire.
    # On the account queue, so that a campaign's backlog on the other one never delays it.
    "send-stranded-emails": {
        "task": "onboarding.tasks.send_stranded_emails",
        "schedule": 60.0,
        "options": {"queue": "account"},
    },
    "delete-abandoned-import-uploads": {
        "task": "onboarding.tasks.delete_abandoned_import_uploads",
        "schedule": crontab(hour=3, minute=30),  # nightly; uploads older than a day go
    },
    "start-contacts-confirmation": {
        "task": "onboarding.tasks.start_contacts_confirmation",
        "schedule": crontab(hour=8, minute=30),  # daily: starts the year's round in its month
    },
    "recheck-members-in-registry": {
        "task": "onboarding.tasks.recheck_members_in_registry",
        "schedule": crontab(day_of_week="mon", hour=5, minute=0),  # weekly, before office hours
    },
    "clear-expired-sessions": {
        "task": "onboarding.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=15),  # nightly
    },
    "delete-expired-notifications": {
        "task": "onboarding.tasks.delete_expired_notifications",
        "schedule": crontab(hour=3, minute=45),  # nightly; see NOTIFICATION_RETENTION_DAYS
    },
    "verify-evidence": {
        "task": "onboarding.tasks.verify_evidence",
        "schedule": crontab(hour=4, minute=15),  # nightly: staff read an alert in the morning
    },
}

# The domain.
ALLOW_TEST_ORGANISATIONS = env.bool("ALLOW_TEST_ORGANISATIONS", default=DEBUG)
LEGACY_CONTRACTS_END = date.fromisoformat(env.str("LEGACY_CONTRACTS_END", default="2024-08-01"))
# Legacy member imports: the largest file (bytes), the most rows read (empty ones counted) and
# the errors after which checking stops (onboarding/legacy_import.py).
IMPORT_MAX_FILE_SIZE = env.int("IMPORT_MAX_FILE_SIZE", default=10 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
IMPORT_MAX_ERRORS = env.int("IMPORT_MAX_ERRORS", default=1_000)
PHONENUMBER_DEFAULT_REGION = "FI"
SIMPLE_HISTORY_REVERT_DISABLED = True
# Organisations whose campaign messages (invitations, reminders, lapse notices) and contact
# confirmation requests are written in one transaction, a fixed number of queries each
# (onboarding/services/campaigns.py, confirmations.py).
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=200)
# How long a campaign invitation's personal link stays valid.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=180)
# The month (1-12) in which members are asked once a year to confirm their contacts.
CONTACTS_CONFIRMATION_MONTH = env.int("CONTACTS_CONFIRMATION_MONTH", default=9)
if not 1 <= CONTACTS_CONFIRMATION_MONTH <= 12:
    sys.exit("Configuration error: CONTACTS_CONFIRMATION_MONTH must be a month, 1 to 12.")
# Days a rejected or withdrawn notification is kept after its decision or withdrawal.
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=365)
# The privacy notice (/privacy/) and the accessibility statement (/accessibility/).
PRIVACY_CONTACT_EMAIL = env.str("PRIVACY_CONTACT_EMAIL", default=CUSTOMER_SERVICE_EMAIL)
DATA_PROTECTION_OFFICER_EMAIL = env.str(
    "DATA_PROTECTION_OFFICER_EMAIL", default="tietosuoja@oph.fi"
)
ACCESSIBILITY_FEEDBACK_EMAIL = env.str(
    "ACCESSIBILITY_FEEDBACK_EMAIL", default=CUSTOMER_SERVICE_EMAIL
)
ACCESSIBILITY_ASSESSED_ON = date.fromisoformat(
    env.str("ACCESSIBILITY_ASSESSED_ON", default="2026-11-27")
)
# How many notifications one person may send in an hour (each one emails every reviewer).
NOTIFICATIONS_PER_PERSON_PER_HOUR = env.int("NOTIFICATIONS_PER_PERSON_PER_HOUR", default=5)
if NOTIFICATIONS_PER_PERSON_PER_HOUR < 1:
    sys.exit("Configuration error: NOTIFICATIONS_PER_PERSON_PER_HOUR must be 1 or more.")
# How many notification drafts (one per organisation) one session keeps; the oldest go first.
NOTIFICATION_DRAFTS_PER_SESSION = env.int("NOTIFICATION_DRAFTS_PER_SESSION", default=10)
if NOTIFICATION_DRAFTS_PER_SESSION < 1:
    sys.exit("Configuration error: NOTIFICATION_DRAFTS_PER_SESSION must be 1 or more.")

# OPH's organisation service (Organisaatiopalvelu), asked about organisations by OID
# (`onboarding.organisation_registry`). Empty: lookups are off (development, most tests).
ORGANISATION_SERVICE_URL = env.str("ORGANISATION_SERVICE_URL", default="").rstrip("/")
# How OPH's services name their callers: OPH's root OID and the service's name.
ORGANISATION_SERVICE_CALLER_ID = env.str(
    "ORGANISATION_SERVICE_CALLER_ID", default="1.2.246.562.10.00000000001.mpassid-portal"
)
# Seconds to wait for an answer (no retries: the weekly check and the form's next step ask again).
ORGANISATION_SERVICE_TIMEOUT = env.float("ORGANISATION_SERVICE_TIMEOUT", default=5.0)
# Seconds an answer (found or not found, never a failure) is kept in the cache.
ORGANISATION_SERVICE_CACHE_SECONDS = env.int("ORGANISATION_SERVICE_CACHE_SECONDS", default=300)
# Seconds the weekly re-check waits between two requests, to be polite to OPH's service.
ORGANISATION_SERVICE_PAUSE = env.float("ORGANISATION_SERVICE_PAUSE", default=0.5)

# Security: HTTPS behind a proxy in production.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = not DEBUG
# In production the cookies' names carry the __Host- prefix: the browser keeps them only if set
# with Secure, Path=/ and no Domain, so no subdomain or plain-http page can plant one. Development
# over http keeps the plain names (a browser refuses a __Host- cookie without Secure).
_COOKIE_PREFIX = "" if DEBUG else "__Host-"
SESSION_COOKIE_NAME = f"{_COOKIE_PREFIX}sessionid"
CSRF_COOKIE_NAME = f"{_COOKIE_PREFIX}csrftoken"
LANGUAGE_COOKIE_NAME = f"{_COOKIE_PREFIX}django_language"  # set by the language switcher
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only the portal's own files: no inline scripts or styles, no other sites. data: images are the
# TOTP QR code (allauth) and the empty favicon. The admin's pages also allow inline styles, which
# Django's admin writes itself (portal/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features the portal never uses, off for it and anything it might embed. WebAuthn too
# (publickey-credentials-*): MFA_SUPPORTED_TYPES has no "webauthn". Only names Chromium knows:
# it logs an error for any other (tests/e2e/test_csp.py).
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ]
}
CSRF_FAILURE_VIEW = "onboarding.views.error_pages.csrf_failure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Not a line per request to OPH's organisation service: failures are logged by the portal.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
