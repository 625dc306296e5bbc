"""The same handlers with another provider: the in-memory backend's provider-neutral events."""

from __future__ import annotations

import pytest

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import (
    CheckoutData,
    CustomerData,
    SubscriptionData,
)
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.webhooks import process_webhook_request
from tests.factories import CustomerFactory, PricingFactory
from tests.webhooks.helpers import linked_price

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
    price = linked_price(locmem, pricing)
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
    price = linked_price(locmem, PricingFactory())
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


def catalog_and_customer(backend, local):
    price = linked_price(backend, PricingFactory())
    customer = backend.create_customer(
        CustomerData(local_id=str(local.pk), email=local.email), idempotency_key="c"
    )
    return price, customer


def test_applying_events_calls_the_provider_zero_times(locmem):
    local = CustomerFactory()
    price, customer = catalog_and_customer(locmem, local)
    sub = locmem.create_subscription(
        SubscriptionData(local_id="", customer_id=customer.id, price_id=price.id),
        idempotency_key="s",
    )
    locmem.update_subscription(sub.id, quantity=4)
    locmem.cancel_subscription(sub.id, at_period_end=False)
    events = locmem.pop_events()
    locmem.calls.clear()
    deliver(locmem, events)
    assert locmem.calls == []
    assert Subscription.objects.get().status == "canceled"


def test_refetch_mode_applies_the_providers_current_state(locmem, settings):
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "WEBHOOK_REFETCH": True}
    backend = get_backend()
    backend.reset()
    local = CustomerFactory()
    price, customer = catalog_and_customer(backend, local)
    sub = backend.create_subscription(
        SubscriptionData(local_id="", customer_id=customer.id, price_id=price.id),
        idempotency_key="s",
    )
    backend.update_subscription(sub.id, quantity=7)  # its event is not delivered
    events = [e for e in backend.pop_events() if e.type != "subscription.updated"]
    backend.calls.clear()
    deliver(backend, events)
    assert Subscription.objects.get().quantity == 7
    retrieved = [c.args for c in backend.calls_to("retrieve")]
    assert len(retrieved) == len(events)  # one API call per event: the price of this mode
    assert ("subscription", sub.id) in retrieved


def test_a_subscription_over_the_limit_cancels_the_oldest_at_the_provider(
    locmem, django_capture_on_commit_callbacks
):
    local = CustomerFactory()
    price, customer = catalog_and_customer(locmem, local)
    first = locmem.create_subscription(
        SubscriptionData(local_id="", customer_id=customer.id, price_id=price.id),
        idempotency_key="s1",
    )
    deliver(locmem, locmem.pop_events())
    second = locmem.create_subscription(
        SubscriptionData(local_id="", customer_id=customer.id, price_id=price.id),
        idempotency_key="s2",
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(locmem, locmem.pop_events())
    assert [c.args for c in locmem.calls_to("cancel_subscription")] == [(first.id,)]
    old = Subscription.objects.get(external_subscriptions__external_id=first.id)
    assert old.cancel_at_period_end is True
    # The provider's cancellation comes back as an event and ends the old one locally.
    deliver(locmem, locmem.pop_events())
    old.refresh_from_db()
    assert old.status == "canceled"
    kept = Subscription.objects.get(external_subscriptions__external_id=second.id)
    assert kept.status == "active"


def test_every_provider_has_its_route_and_only_the_configured_one_answers(locmem, client):
    """``<provider>/webhook/``: the configured backend's route applies the event; another
    provider's route (Stripe's included) is not in use on this site and answers 404."""
    from django.urls import reverse

    locmem.create_customer(CustomerData(local_id="", email="r@example.com"), idempotency_key="r")
    [event] = locmem.pop_events()
    body, headers = locmem.signed_request(event)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    url = reverse("payments_sync:webhook", kwargs={"provider": "locmem"})
    assert url == "/api/payment/locmem/webhook/"
    for other in ("/api/payment/stripe/webhook/", "/api/payment/acme/webhook/"):
        assert client.post(other, body, content_type="application/json", **extra).status_code == 404
    assert not WebhookEvent.objects.exists()
    answer = client.post(url, body, content_type="application/json", **extra)
    assert answer.status_code == 200, answer.content
    assert WebhookEvent.objects.get().event_id == event.id
