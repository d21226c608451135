from onboarding.admin import campaigns, core, registrations  # noqa: F401 (registers the admin)
