"""Writes of the domain: each state change happens in one service, in one transaction."""

from onboarding.services.acceptances import acceptance_record
from onboarding.services.terms import terms_publish

__all__ = ["acceptance_record", "terms_publish"]
