from onboarding.models.campaigns import AcceptanceCampaign, CampaignMessage, CampaignTarget
from onboarding.models.confirmations import (
    ContactsConfirmationMessage,
    ContactsConfirmationRound,
    ContactsConfirmationTarget,
)
from onboarding.models.emails import OutgoingEmail
from onboarding.models.evidence import EvidenceCheck
from onboarding.models.organisations import ContactPerson, LegacyContract, Organisation
from onboarding.models.privacy import PersonErasure
from onboarding.models.registrations import PendingRegistration, Registration
from onboarding.models.registry import RegistryCheck, RegistryEntry
from onboarding.models.terms import ImmutableRecordError, TermsAcceptance, TermsVersion
from onboarding.models.users import User

__all__ = [
    "AcceptanceCampaign",
    "CampaignTarget",
    "CampaignMessage",
    "ContactPerson",
    "ContactsConfirmationMessage",
    "ContactsConfirmationRound",
    "ContactsConfirmationTarget",
    "EvidenceCheck",
    "ImmutableRecordError",
    "LegacyContract",
    "Organisation",
    "OutgoingEmail",
    "PendingRegistration",
    "PersonErasure",
    "Registration",
    "RegistryCheck",
    "RegistryEntry",
    "TermsAcceptance",
    "TermsVersion",
    "User",
]
