from __future__ import annotations

import pytest
from django.test import Client

from onboarding.models import User


@pytest.fixture
def person(client: Client, alice: User) -> User:
    """alice, signed in: the person filling in the form."""
    client.force_login(alice)
    return alice
