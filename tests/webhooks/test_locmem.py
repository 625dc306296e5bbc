"""The same handlers with another provider: the in-memory backend's provider-neutral events."""

from __future__ import annotations

import pytest

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import (
    CheckoutData,
    CustomerData,
    PriceData,
    ProductData,
    SubscriptionData,
)
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.webhooks import process_webhook_request
from tests.factories import CustomerFactory, PricingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def locmem(settings):
    settings.PAYMENTS_SYNC = {
        "BACKEND": "django_payments_sync.backends.locmem.LocmemBackend",
        "OPTIONS": {},
        "AUTO_SYNC": False,
    }
    backend = get_backend()
    backend.reset()
    return backend


def deliver(backend, events):
    rows = []
    for event in events:
        body, headers = backend.signed_request(event)
        rows.append(process_webhook_request(body, headers))
    return rows


def test_locmem_events_link_customer_and_create_subscription(locmem):
    local = CustomerFactory(email="loc@example.com")
    pricing = PricingFactory()
    product = locmem.create_product(ProductData(local_id="1", name="P"), idempotency_key="p")
    price = locmem.create_price(
        PriceData(
            local_id=str(pricing.pk),
            product_id=product.id,
            amount=1500,
            currency="eur",
            interval="month",
        ),
        idempotency_key="pr",
    )
    ExternalPricing.objects.create(provider="locmem", external_id=price.id, pricing=pricing)
    customer = locmem.create_customer(
        CustomerData(local_id=str(local.pk), email=local.email, name="Loc"), idempotency_key="c"
    )
    sub = locmem.create_subscription(
        SubscriptionData(local_id="", customer_id=customer.id, price_id=price.id, quantity=2),
        idempotency_key="s",
    )
    events = locmem.pop_events()
    # Subscription first: it waits for its customer, then is applied when the customer links.
    subscription_first = sorted(events, key=lambda e: not e.type.startswith("customer.sub"))
    rows = deliver(locmem, subscription_first)
    assert {r.status for r in rows if r.type.startswith(("customer.", "customer.sub"))} <= {
        "processed",
        "deferred",
    }
    assert ExternalCustomer.objects.get(provider="locmem").customer == local
    subscription = Subscription.objects.get()
    assert (subscription.customer, subscription.pricing, subscription.quantity) == (
        local,
        pricing,
        2,
    )
    assert subscription.status == sub.status
    assert not WebhookEvent.objects.filter(status__in=["deferred", "failed"]).exists()
    assert Customer.objects.count() == 1


def test_locmem_checkout_for_a_new_email_creates_one_user(locmem, django_user_model):
    pricing = PricingFactory()
    product = locmem.create_product(ProductData(local_id="1", name="P"), idempotency_key="p")
    price = locmem.create_price(
        PriceData(
            local_id=str(pricing.pk),
            product_id=product.id,
            amount=1500,
            currency="eur",
            interval="month",
        ),
        idempotency_key="pr",
    )
    ExternalPricing.objects.create(provider="locmem", external_id=price.id, pricing=pricing)
    session = locmem.create_checkout_session(
        CheckoutData(
            mode="subscription",
            price_id=price.id,
            quantity=1,
            success_url="https://x/ok",
            cancel_url="https://x/no",
            customer_email="fresh@example.com",
        ),
        idempotency_key="cs",
    )
    locmem.complete_checkout(session.id)
    events = locmem.pop_events()
    deliver(locmem, list(reversed(events)) + events)
    assert django_user_model.objects.filter(email="fresh@example.com").count() == 1
    assert Subscription.objects.get().customer.email == "fresh@example.com"
    assert not WebhookEvent.objects.filter(status__in=["deferred", "failed"]).exists()
