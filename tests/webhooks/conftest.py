"""Fixtures of the webhook tests: signed posting, and local rows linked to Stripe ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    Pricing,
)
from django_payments_sync.testing.webhooks import sign_stripe_payload
from tests.factories import CustomerFactory, PricingFactory, UserFactory

SECRET = "whsec_payments_sync_tests"


@pytest.fixture(autouse=True)
def no_autosync(settings: Any) -> None:
    """Nothing here may reach a real provider: local saves are not pushed."""
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "AUTO_SYNC": False}


@pytest.fixture
def webhook_url() -> str:
    return reverse("payments_sync:stripe-webhook")


@pytest.fixture
def post_event(client: Client, webhook_url: str) -> Callable[..., Any]:
    """POST a Stripe event (a dict) to the endpoint, signed as Stripe signs it."""

    def post(event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None) -> Any:
        body, headers = sign_stripe_payload(event, secret, timestamp)
        return client.post(
            webhook_url,
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": headers["Stripe-Signature"]},
        )

    return post


@pytest.fixture
def linked_customer(db: None) -> Callable[..., Customer]:
    """A local customer linked to a Stripe customer id."""

    def make(stripe_id: str, **kwargs: Any) -> Customer:
        # With on-commit callbacks running, creating a user already creates its customer.
        owner = UserFactory(**({"email": kwargs["email"]} if "email" in kwargs else {}))
        customer = Customer.objects.filter(owner=owner).first()
        if customer is None:
            customer = CustomerFactory(owner=owner, **kwargs)
        elif kwargs:
            Customer.objects.filter(pk=customer.pk).update(**kwargs)
            customer.refresh_from_db()
        ExternalCustomer.objects.create(provider="stripe", external_id=stripe_id, customer=customer)
        return customer

    return make


@pytest.fixture
def linked_pricing(db: None) -> Callable[..., Pricing]:
    """A local pricing linked to a Stripe price id."""

    def make(price_id: str, **kwargs: Any) -> Pricing:
        pricing = PricingFactory(**kwargs)
        ExternalPricing.objects.create(provider="stripe", external_id=price_id, pricing=pricing)
        return pricing

    return make
