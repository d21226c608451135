"""Test settings: the project's settings with test defaults for what the environment leaves out.

Tests run on PostgreSQL (DATABASE_URL, else postgres@127.0.0.1:5432), never on SQLite.
"""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mpassid_portal")
os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("CACHE_URL", "locmemcache://")
os.environ.setdefault("ALLOW_TEST_ORGANISATIONS", "true")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Plain http, as in development: no Secure cookies, so no __Host- names either (tests of the
# production names and attributes set them with override_settings).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = False
SESSION_COOKIE_NAME, CSRF_COOKIE_NAME = "sessionid", "csrftoken"
LANGUAGE_COOKIE_NAME = "django_language"
# Serve static files from the app directories, as `runserver` does: no collectstatic in tests.
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = True
# The live server's thread must not keep connections open past a test (database teardown).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Uploads waiting for confirmation go to a temporary folder, not the developer's var/.
MEDIA_ROOT = tempfile.mkdtemp(prefix="mpassid-test-media-")
