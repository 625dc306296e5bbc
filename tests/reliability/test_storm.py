"""A webhook storm on PostgreSQL: the emulator's own events, every one sent twice, shuffled, by
four delivery threads at once to four gunicorn workers. Each event is applied exactly once and
the local state equals the emulator's, object for object; ``payments_sync diff`` is clean."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from tests.backends.helpers import emulator_options
from tests.factories import PricingFactory, ProductFactory, UserFactory
from tests.reliability.conftest import payments_sync, remote
from tests.reliability.servers import WEBHOOK_PATH, free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 24
DELIVERY_THREADS = 4
DAY = 86_400


@pytest.fixture
def storm() -> Iterator[StripeEmulator]:
    """An emulator of this test's own (its delivery threads must not outlive the test)."""
    emulator = StripeEmulator(
        webhook_retry_backoff=0.2, webhook_max_attempts=8, webhook_timeout=60, seed=17
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def account_history(em: StripeEmulator, prices: list[str]) -> None:
    """What customers and the dashboard do at the provider over five weeks."""
    client: Any = em.client()  # plain dicts as parameters, as a dashboard script sends them
    for i, link in enumerate(ExternalCustomer.objects.order_by("pk")):
        cus = link.external_id
        update: dict[str, Any] = {"invoice_settings": {"default_payment_method": "pm_card_visa"}}
        if i % 4 == 0:
            update["name"] = f"Renamed {i}"
        client.v1.customers.update(cus, update)
        params: dict[str, Any] = {"customer": cus, "items": [{"price": prices[i % len(prices)]}]}
        if i % 3 == 0:
            params["trial_period_days"] = 7
        sub = client.v1.subscriptions.create(params)
        if i % 2 == 0:
            item = sub["items"]["data"][0]["id"]
            client.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 3}]})
        if i % 5 == 1:
            client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
        if i % 7 == 2:
            client.v1.subscriptions.cancel(sub.id)
    em.advance_clock(35 * DAY)


def ts(value: Any) -> int | None:
    return int(value.timestamp()) if value is not None else None


def test_a_duplicated_shuffled_storm_on_four_workers_ends_in_the_providers_state(
    storm: StripeEmulator, settings: Any
) -> None:
    em = storm
    port = free_port()
    endpoint = em.add_webhook_endpoint(f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    settings.PAYMENTS_SYNC = {
        "OPTIONS": emulator_options(em.url, webhook_secret=endpoint["secret"]),
        "AUTO_SYNC": False,
        "SELLER_COUNTRY": "DE",
        "MAIL": {"ENABLED": False},
    }
    # Every event is queued twice while deliveries wait.
    em.pause_deliveries()
    em.set_delivery_mode("duplicates")
    with transaction.atomic():
        for i in range(CUSTOMERS):
            UserFactory(username=f"storm{i}", email=f"storm{i}@example.com")
        plan = ProductFactory(name="Storm plan")
        pricings = [
            PricingFactory(product=plan, amount=1500, interval="month"),
            PricingFactory(product=plan, amount=15000, interval="year"),
        ]
    assert Customer.objects.count() == CUSTOMERS
    assert payments_sync("push")[0] == 0
    prices = [
        ExternalPricing.objects.get(pricing=p, provider="stripe").external_id for p in pricings
    ]
    account_history(em, prices)
    emitted = {e["id"] for e in em.events()}
    assert len(emitted) > 10 * CUSTOMERS

    with gunicorn(endpoint["secret"], workers=4, port=port):
        em.set_delivery_mode("shuffled")
        for _ in range(DELIVERY_THREADS - 1):
            em.dispatcher.start()  # more delivery threads on the same queue
        log = em.flush(timeout=240)

    spans = sorted((d["at"], d["at"] + d["duration"]) for d in log)
    overlapping = sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    assert overlapping > len(spans) // 4, "the deliveries did not run concurrently"
    print(f"storm: {len(log)} deliveries of {len(emitted)} events, {overlapping} overlapping")
    delivered = Counter(d["event"] for d in log if d["ok"])
    assert set(delivered) == emitted
    assert min(delivered.values()) >= 2  # both copies of every event were answered 2xx
    # Stored once, applied once.
    rows = list(WebhookEvent.objects.values("event_id", "status", "attempts"))
    assert sorted(r["event_id"] for r in rows) == sorted(emitted)
    assert Counter(r["status"] for r in rows).keys() <= {"processed", "ignored"}, Counter(
        (r["status"]) for r in rows
    )

    # Object for object: the emulator's customers and subscriptions are the local ones.
    theirs_customers = remote(em, "customer")
    links = {e.external_id: e.customer for e in ExternalCustomer.objects.select_related("customer")}
    assert set(links) == {c["id"] for c in theirs_customers}
    assert Customer.objects.count() == len(theirs_customers)
    for c in theirs_customers:
        assert (links[c["id"]].email, links[c["id"]].name) == (c["email"], c["name"] or ""), c["id"]

    price_pricing = dict(
        ExternalPricing.objects.filter(provider="stripe").values_list("external_id", "pricing_id")
    )
    theirs_subs = remote(em, "subscription")
    subs = {
        e.external_id: e.subscription
        for e in ExternalSubscription.objects.select_related("subscription__customer")
    }
    assert set(subs) == {s["id"] for s in theirs_subs}
    assert Subscription.objects.count() == len(theirs_subs) == CUSTOMERS
    for s in theirs_subs:
        item = s["items"]["data"][0]
        ours = subs[s["id"]]
        assert (
            ours.status,
            ours.quantity,
            ours.pricing_id,
            ours.cancel_at_period_end,
            ts(ours.current_period_end),
            ts(ours.trial_end),
            ts(ours.ended_at),
            ExternalCustomer.objects.get(customer=ours.customer).external_id,
        ) == (
            s["status"],
            item["quantity"],
            price_pricing[item["price"] if isinstance(item["price"], str) else item["price"]["id"]],
            s["cancel_at_period_end"],
            item["current_period_end"],
            s["trial_end"],
            s["ended_at"],
            s["customer"],
        ), s["id"]
    assert {s["status"] for s in theirs_subs} >= {"active", "canceled"}
    # The reconciliation the diff command runs agrees.
    status, out, _err = payments_sync("diff")
    assert status == 0, out
