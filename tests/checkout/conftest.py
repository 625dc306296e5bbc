"""Fixtures of the checkout, subscription, plan and mail tests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.locmem import LocmemBackend
from tests.factories import PricingFactory, ProductFactory

PLANS_URL = "/api/payment/plans/"
CHECKOUT_URL = "/api/payment/checkout/"
ORDERS_URL = "/api/payment/orders/"
SUBSCRIPTIONS_URL = "/api/payment/subscriptions/"


def subscription_url(pk: int) -> str:
    return f"{SUBSCRIPTIONS_URL}{pk}/"


def deliver(locmem: LocmemBackend, *, shuffle: bool = False, twice: bool = False) -> list[str]:
    """Hand the in-memory provider's pending events to the webhook pipeline, as its endpoint
    would; returns the stored events' statuses."""
    from django_payments_sync.interactor import payments

    events = locmem.pop_events()
    if twice:
        events = events + events
    if shuffle:
        random.Random(7).shuffle(events)
    statuses = []
    for event in events:
        body, headers = locmem.signed_request(event)
        statuses.append(payments.handle_webhook(body, headers).status)
    return statuses


LOCMEM_SETTINGS: dict[str, Any] = {
    "BACKEND": "django_payments_sync.backends.locmem.LocmemBackend",
    "OPTIONS": {},
    "SELLER_COUNTRY": "DE",
}


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The plan catalog is cached: each test starts from the database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def locmem() -> Iterator[LocmemBackend]:
    """The in-memory provider as the configured backend, empty (before any other fixture, so
    that the customers of users created by fixtures are pushed to it, not to Stripe)."""
    with override_settings(PAYMENTS_SYNC=LOCMEM_SETTINGS):
        backend = get_backend()
        assert isinstance(backend, LocmemBackend)
        backend.reset()
        yield backend


@pytest.fixture
def monthly(db: None) -> Any:
    """A monthly plan: 15.00 EUR per seat, 1 to 10 seats."""
    product = ProductFactory(name="Team", metadata={"features": ["API", "Support"], "seats": "10"})
    return PricingFactory(product=product, amount=1500, interval="month", max_quantity=10)


@pytest.fixture
def yearly(monthly: Any) -> Any:
    return PricingFactory(product=monthly.product, amount=15000, interval="year", max_quantity=10)


@pytest.fixture
def one_time(db: None) -> Any:
    product = ProductFactory(name="Setup", metadata={})
    return PricingFactory(product=product, amount=9900, interval="")


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def other_api(other_user: Any) -> APIClient:
    client = APIClient()
    client.force_login(other_user)
    return client
