"""Writes of the domain: each state change happens in one service, in one transaction."""

from onboarding.services.acceptances import AcceptanceEvidence, acceptance_record
from onboarding.services.registrations import (
    NotificationAlreadyWaiting,
    RegistrationAlreadyDecided,
    RequestMeta,
    TermsChanged,
    TooManyNotifications,
    registration_approve,
    registration_reject,
    registration_request_changes,
    registration_submit,
    registration_withdraw,
)
from onboarding.services.terms import (
    TermsTextChanged,
    terms_announced_when_published,
    terms_announcement_sha256,
    terms_publish,
)

__all__ = [
    "AcceptanceEvidence",
    "NotificationAlreadyWaiting",
    "RegistrationAlreadyDecided",
    "RequestMeta",
    "TermsChanged",
    "TermsTextChanged",
    "TooManyNotifications",
    "acceptance_record",
    "registration_approve",
    "registration_reject",
    "registration_request_changes",
    "registration_submit",
    "registration_withdraw",
    "terms_announced_when_published",
    "terms_announcement_sha256",
    "terms_publish",
]
