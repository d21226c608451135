"""Other packages' texts that the portal words its own way, or that their catalogues lack.

Django and allauth look a text up in our catalogues (LOCALE_PATHS) before their own, so an
entry here changes the wording everywhere without copying their templates. The texts are
listed so that `make messages` keeps them in our catalogues; this module is never called.
"""

from django.utils.translation import gettext_noop

OVERRIDES = [
    # allauth's headings and buttons, in sentence case in English too.
    gettext_noop("Sign In"),
    gettext_noop("Sign Out"),
    gettext_noop("Sign Up"),
    gettext_noop("Request Code"),
    gettext_noop("Enter Sign-In Code"),
    gettext_noop("Password Reset"),
    gettext_noop("Reset My Password"),
    gettext_noop("Change Password"),
    gettext_noop("Set Password"),
    gettext_noop("Forgot Password?"),
    gettext_noop("Email Addresses"),
    gettext_noop("Email Address"),
    gettext_noop("Add Email"),
    gettext_noop("Make Primary"),
    gettext_noop("Re-send Verification"),
    gettext_noop("Two-Factor Authentication"),
    gettext_noop("Recovery Codes"),
    gettext_noop("Authenticator App"),
    gettext_noop("Activate Authenticator App"),
    gettext_noop("Deactivate Authenticator App"),
    gettext_noop("View Codes"),
    gettext_noop("Download Codes"),
    gettext_noop("Generate New Codes"),
    gettext_noop("Confirm Access"),
    gettext_noop("Other sign-in options"),
    gettext_noop("Send me a sign-in code"),
    # Django's admin, whose Finnish and Swedish catalogues lack these (Django 5.2).
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Model name"),
]
