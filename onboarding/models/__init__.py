from onboarding.models.campaigns import AcceptanceCampaign, CampaignTarget, Reminder
from onboarding.models.emails import OutgoingEmail
from onboarding.models.organisations import ContactPerson, LegacyContract, Organisation
from onboarding.models.registrations import PendingRegistration, Registration
from onboarding.models.terms import ImmutableRecordError, TermsAcceptance, TermsVersion
from onboarding.models.users import User

__all__ = [
    "AcceptanceCampaign",
    "CampaignTarget",
    "Reminder",
    "ContactPerson",
    "ImmutableRecordError",
    "LegacyContract",
    "Organisation",
    "OutgoingEmail",
    "PendingRegistration",
    "Registration",
    "TermsAcceptance",
    "TermsVersion",
    "User",
]
