"""End to end: objects made through the Stripe backend, the emulator's real events delivered
(shuffled and duplicated) to a live server, and the local state that results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import (
    CustomerData,
    SubscriptionData,
)
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalSubscription,
    Subscription,
    WebhookEvent,
)
from tests.emulated import emulated_site
from tests.factories import CustomerFactory, PricingFactory, UserFactory
from tests.webhooks.helpers import linked_price

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def emulated(stripe_emulator: Any, live_server: Any) -> Iterator[Any]:
    """The library on a live server, its backend talking to the emulator, which posts back."""
    with emulated_site(stripe_emulator, live_server, AUTO_SYNC=False, MAIL={"ENABLED": False}):
        yield stripe_emulator


def local_customer(email: str, name: str = "") -> Customer:
    # Committing a new user creates its customer (the adapter's post_user_created).
    owner = UserFactory(username=email, email=email)
    customer = Customer.objects.filter(owner=owner).first() or CustomerFactory(owner=owner)
    Customer.objects.filter(pk=customer.pk).update(email=email, name=name, sync_status="synced")
    customer.refresh_from_db()
    return customer


def deliver(emulator: Any, mode: str) -> list[dict[str, Any]]:
    emulator.set_delivery_mode(mode)
    log = emulator.flush(timeout=30)
    emulator.pause_deliveries()
    return log


@pytest.mark.parametrize("mode", ["shuffled", "duplicates-shuffled"])
def test_backend_made_customer_and_subscription_reach_local_state(emulated, mode):
    backend = get_backend()
    local = local_customer("e2e@example.com", "E2E")
    pricing = PricingFactory(amount=1500, currency="eur", interval="month")
    # Deliveries are queued twice per event in "duplicates" mode, then sent in random order.
    emulated.set_delivery_mode("duplicates" if mode.startswith("duplicates") else "shuffled")
    price = linked_price(backend, pricing, key="e2e")
    customer = backend.create_customer(
        CustomerData(local_id=str(local.pk), email=local.email, name="Renamed at Stripe"),
        idempotency_key="e2e-customer",
    )
    created = backend.create_subscription(
        SubscriptionData(
            local_id="",
            customer_id=customer.id,
            price_id=price.id,
            quantity=2,
            trial_period_days=14,
        ),
        idempotency_key="e2e-subscription",
    )
    backend.update_subscription(created.id, quantity=3)
    backend.cancel_subscription(created.id, at_period_end=True)

    log = deliver(emulated, "shuffled")

    assert log
    assert [d for d in log if not d["ok"]] == []
    sent = {d["event"] for d in log}
    if mode.startswith("duplicates"):
        assert len(log) == 2 * len(sent)
    rows = WebhookEvent.objects.all()
    assert {r.event_id for r in rows} == sent
    assert {r.status for r in rows} <= {"processed", "ignored"}
    assert {r.type for r in rows if r.status == "processed"} >= {
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.updated",
    }
    # The customer was linked through the metadata the backend stored, never duplicated.
    assert Customer.objects.count() == 1
    assert ExternalCustomer.objects.get().customer == local
    local.refresh_from_db()
    assert local.name == "Renamed at Stripe"
    # The subscription equals the emulator's final state.
    remote = emulated.client().v1.subscriptions.retrieve(created.id)
    subscription = Subscription.objects.get()
    assert ExternalSubscription.objects.get().external_id == created.id
    assert (subscription.customer, subscription.pricing) == (local, pricing)
    assert subscription.status == remote.status == "trialing"
    assert subscription.quantity == 3
    assert subscription.cancel_at_period_end is True
    assert int(subscription.trial_end.timestamp()) == remote.trial_end


def test_renewal_that_fails_to_charge_ends_past_due(emulated):
    backend = get_backend()
    local = local_customer("renew@example.com")
    pricing = PricingFactory(amount=900, currency="eur", interval="month")
    price = linked_price(backend, pricing, key="r")
    customer = backend.create_customer(
        CustomerData(local_id=str(local.pk), email=local.email), idempotency_key="r-cus"
    )
    created = backend.create_subscription(
        SubscriptionData(
            local_id="", customer_id=customer.id, price_id=price.id, trial_period_days=3
        ),
        idempotency_key="r-sub",
    )
    emulated.advance_clock(4 * 86_400)  # the trial ends; there is no card to charge

    deliver(emulated, "shuffled")

    remote = emulated.client().v1.subscriptions.retrieve(created.id)
    subscription = Subscription.objects.get()
    assert subscription.status == remote.status
    assert subscription.status in ("past_due", "active", "incomplete")
    assert (
        int(subscription.current_period_end.timestamp())
        == (remote["items"]["data"][0]["current_period_end"])
    )
    assert not WebhookEvent.objects.exclude(status__in=["processed", "ignored"]).exists()
