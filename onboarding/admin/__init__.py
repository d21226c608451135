from onboarding.admin import (  # noqa: F401 (registers the admin)
    campaigns,
    core,
    registrations,
    second_factors,
)
