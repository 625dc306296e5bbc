"""Fixtures of the billing tests: logged-in API clients and settings pointing at the emulator."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

BILLING_URL = "/api/payment/billing/"
VALIDATE_VAT_URL = "/api/payment/billing/validate-vat/"
PORTAL_URL = "/api/payment/billing/portal/"

#: Billing data of a customer in France (no VAT number).
FRENCH_ADDRESS: dict[str, Any] = {
    "name": "Alice SARL",
    "email": "billing@alice.example",
    "address_line1": "1 rue de Rivoli",
    "city": "Paris",
    "postal_code": "75001",
    "country": "FR",
}

#: Billing data of a customer outside the EU.
US_ADDRESS: dict[str, Any] = {
    "name": "Bob Inc.",
    "email": "billing@bob.example",
    "address_line1": "1 Main Street",
    "city": "Springfield",
    "postal_code": "12345",
    "region": "IL",
    "country": "US",
}


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Throttle counters live in the cache: each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_a(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def client_b(other_user: Any) -> APIClient:
    client = APIClient()
    client.force_login(other_user)
    return client


def payments_settings_with(**changes: Any) -> dict[str, Any]:
    """The current ``PAYMENTS_SYNC`` with top-level keys replaced (nested dicts merged)."""
    current: dict[str, Any] = copy.deepcopy(settings.PAYMENTS_SYNC)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            current[key] = {**current[key], **value}
        else:
            current[key] = value
    return current


@pytest.fixture
def emulator_settings(stripe_emulator: Any) -> Iterator[Any]:
    """``PAYMENTS_SYNC`` pointing the Stripe backend at the emulator (no SDK retries)."""
    with override_settings(
        PAYMENTS_SYNC=payments_settings_with(
            OPTIONS={"api_base": stripe_emulator.url, "max_network_retries": 0}
        )
    ):
        yield stripe_emulator
