from onboarding.models.organisations import ContactPerson, LegacyContract, Organisation
from onboarding.models.users import User
from onboarding.models.terms import ImmutableRecordError, TermsAcceptance, TermsVersion

__all__ = [
    "ContactPerson",
    "ImmutableRecordError",
    "LegacyContract",
    "Organisation",
    "TermsAcceptance",
    "TermsVersion",
    "User",
]
