from onboarding.admin import (  # noqa: F401 (registers the admin)
    campaigns,
    confirmations,
    core,
    evidence,
    registrations,
    second_factors,
    terms,
    users,
)
