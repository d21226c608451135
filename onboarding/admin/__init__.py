from onboarding.admin import core, registrations  # noqa: F401 (registers the admin classes)
