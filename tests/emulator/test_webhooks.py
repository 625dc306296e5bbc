"""Webhook delivery: signatures the SDK verifies, filtering, retries, modes, pause and flush."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from . import helpers
from .conftest import Receiver


def test_deliveries_are_signed_like_stripe(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    receiver: Receiver,
    endpoint: dict[str, Any],
) -> None:
    cus = client.v1.customers.create({"email": "hook@example.com"})
    client.v1.customers.update(cus.id, {"name": "Hook"})
    log = stripe_emulator.wait_for_deliveries(5)
    events = receiver.events(endpoint["secret"])
    assert [e.type for e in events] == ["customer.created", "customer.updated"]
    assert events[0].data.object.id == cus.id
    assert events[1].data.previous_attributes.name is None
    assert events[0].request.id.startswith("req_")
    header = receiver.received[0]["headers"]["Stripe-Signature"]
    assert header.startswith("t=")
    assert ",v1=" in header
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(receiver.received[0]["body"], header, "whsec_wrong")
    assert [(d["type"], d["status"], d["attempt"]) for d in log] == [
        ("customer.created", 200, 1),
        ("customer.updated", 200, 1),
    ]
    assert log[0]["endpoint"] == endpoint["id"]
    assert client.v1.events.retrieve(events[0].id).pending_webhooks == 0


def test_enabled_events_filter_deliveries(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    created = client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["product.created"]}
    )
    client.v1.customers.create({"name": "ignored"})
    client.v1.products.create({"name": "wanted"})
    stripe_emulator.wait_for_deliveries(5)
    assert [e.type for e in receiver.events(created.secret)] == ["product.created"]


def test_failed_delivery_is_retried_with_backoff(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    receiver: Receiver,
    endpoint: dict[str, Any],
) -> None:
    receiver.fail_next = 2
    client.v1.customers.create({"name": "flaky"})
    log = stripe_emulator.wait_for_deliveries(5)
    assert [(d["attempt"], d["status"]) for d in log] == [(1, 500), (2, 500), (3, 200)]
    assert log[2]["at"] - log[0]["at"] >= 0.05 + 0.1 - 0.01
    assert len({json.loads(r["body"])["id"] for r in receiver.received}) == 1
    assert [e.type for e in receiver.events(endpoint["secret"])] == ["customer.created"]


def test_unreachable_endpoint_gives_up_after_max_attempts(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    stripe_emulator.add_webhook_endpoint("http://127.0.0.1:9/unreachable")
    client.v1.customers.create({"name": "lost"})
    log = stripe_emulator.wait_for_deliveries(5)
    assert [d["attempt"] for d in log] == [1, 2, 3, 4]
    assert all(d["status"] is None and d["error"] for d in log)
    assert client.v1.events.list().data[0].pending_webhooks == 1


def test_pause_and_flush(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    receiver: Receiver,
    endpoint: dict[str, Any],
) -> None:
    stripe_emulator.pause_deliveries()
    client.v1.customers.create({"name": "held"})
    with pytest.raises(TimeoutError):
        stripe_emulator.wait_for_deliveries(0.2)
    assert receiver.received == []
    assert stripe_emulator.pending_deliveries() == 1
    stripe_emulator.flush()
    assert [e.type for e in receiver.events(endpoint["secret"])] == ["customer.created"]


def test_duplicates_mode_sends_each_event_twice(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    receiver: Receiver,
    endpoint: dict[str, Any],
) -> None:
    stripe_emulator.set_delivery_mode("duplicates")
    client.v1.customers.create({"name": "twice"})
    stripe_emulator.wait_for_deliveries(5)
    events = receiver.events(endpoint["secret"])
    assert len(events) == 2
    assert events[0].id == events[1].id


def test_shuffled_mode_changes_the_order(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    receiver: Receiver,
    endpoint: dict[str, Any],
) -> None:
    stripe_emulator.set_delivery_mode("shuffled")
    stripe_emulator.pause_deliveries()
    created = [client.v1.products.create({"name": f"p{i}"}).id for i in range(12)]
    stripe_emulator.flush()
    received = [e.data.object.id for e in receiver.events(endpoint["secret"])]
    assert sorted(received) == sorted(created)
    assert received != created


def test_subscription_flow_events_carry_snapshots(
    client: stripe.StripeClient,
    stripe_emulator: StripeEmulator,
    receiver: Receiver,
    endpoint: dict[str, Any],
) -> None:
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client).id)
    client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    stripe_emulator.wait_for_deliveries(5)
    events = receiver.events(endpoint["secret"])
    created = next(e for e in events if e.type == "customer.subscription.created")
    updated = next(e for e in events if e.type == "customer.subscription.updated")
    assert created.data.object.cancel_at_period_end is False
    assert updated.data.object.cancel_at_period_end is True
    assert updated.data.previous_attributes.cancel_at_period_end is False
    assert created.data.object["items"].data[0].price.object == "price"


def test_deliveries_log_over_http(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, endpoint: dict[str, Any]
) -> None:
    client.v1.customers.create({"name": "logged"})
    base = f"{stripe_emulator.url}/_emulator/deliveries"
    waited = requests.post(f"{base}/wait", json={"timeout": 5}, timeout=10).json()
    assert waited["deliveries"][0]["type"] == "customer.created"
    listed = requests.get(base, timeout=5).json()
    assert listed["pending"] == 0
    assert listed["deliveries"][0]["status"] == 200
    assert requests.post(f"{base}/pause", timeout=5).json() == {"paused": True}
    client.v1.customers.create({"name": "held"})
    assert requests.post(f"{base}/wait", json={"timeout": 0.1}, timeout=5).status_code == 504
    flushed = requests.post(f"{base}/flush", json={"timeout": 5}, timeout=10).json()
    assert len(flushed["deliveries"]) == 2


def test_signed_payload_for_posting_events_by_hand(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = client.v1.customers.create({"name": "manual"})
    event_id = stripe_emulator.events("customer.created")[0]["id"]
    body, header = stripe_emulator.signed_payload(event_id, "whsec_test")
    event = stripe.Webhook.construct_event(body, header, "whsec_test")
    assert event.id == event_id
    assert event.data.object.id == cus.id
