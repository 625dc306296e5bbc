"""Hostile webhook requests: no 500, no stored row for unverified input, no change of state."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from django_payments_sync.models import Customer, Subscription, WebhookEvent
from django_payments_sync.testing.webhooks import (
    sign_stripe_payload,
    stripe_customer,
    stripe_event,
    stripe_price,
    stripe_subscription,
)
from tests.security.conftest import stored_state
from tests.webhooks.conftest import SECRET

pytestmark = pytest.mark.django_db

LIVE_KEY_OPTIONS = {"api_key": "sk_live_payments_sync_tests"}


@pytest.fixture
def world(linked_customer: Callable[..., Customer], linked_pricing: Callable[..., Any]) -> Customer:
    """A customer linked to ``cus_A`` with an active subscription ``sub_A`` on ``price_A``."""
    customer = linked_customer("cus_A", email="a@example.com", name="Ada")
    pricing = linked_pricing("price_A")
    subscription = Subscription.objects.create(
        customer=customer, pricing=pricing, status="active", quantity=1
    )
    subscription.external_subscriptions.create(provider="stripe", external_id="sub_A")
    return customer


def hostile_update(**overrides: Any) -> dict[str, Any]:
    """An event that, if applied, would rename and re-address the world's customer."""
    obj = stripe_customer("cus_A", email="mallory@evil.example", name="Mallory")
    return stripe_event("customer.updated", obj, **overrides)


def send(client: Client, url: str, body: bytes, signature: str | None, **extra: Any) -> Any:
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return client.post(url, data=body, content_type="application/json", headers=headers, **extra)


def signed(
    payload: Any, *, secret: str = SECRET, timestamp: int | None = None
) -> tuple[bytes, str]:
    body, headers = sign_stripe_payload(payload, secret, timestamp)
    return body, headers["Stripe-Signature"]


def forged_requests() -> dict[str, tuple[bytes, str | None]]:
    """Requests an attacker without the endpoint's secret can send."""
    event = hostile_update()
    body, good = signed(event)
    now = int(time.time())
    other_body = json.dumps(hostile_update()).encode()
    return {
        "no-signature": (body, None),
        "empty-signature": (body, ""),
        "garbage-signature": (body, "garbage"),
        "wrong-secret": signed(event, secret="whsec_guessed"),
        "signature-of-another-body": (other_body, good),
        "v0-scheme-only": (body, good.replace("v1=", "v0=")),
        "timestamp-not-a-number": (body, "t=yesterday," + good.split(",", 1)[1]),
        "timestamp-swapped": (body, f"t={now + 1}," + good.split(",", 1)[1]),
        "replayed-beyond-tolerance": signed(event, timestamp=now - 301),
        "replayed-a-day-later": signed(event, timestamp=now - 86_400),
        "huge-header": (body, "t=1," + "v1=" + "a" * 64 + ",v1=" * 2000),
        "not-utf8-body": (b"\xff\xfe" + body, good),
        "forged-deep-json": (b"[" * 100_000 + b"]" * 100_000, good),
    }


@pytest.mark.parametrize("case", sorted(forged_requests()))
def test_forged_and_replayed_requests_are_refused_and_leave_no_trace(
    client: Client, webhook_url: str, world: Customer, case: str
) -> None:
    body, signature = forged_requests()[case]
    before = stored_state()

    response = send(client, webhook_url, body, signature)

    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert stored_state() == before
    assert not WebhookEvent.objects.exists()


def signed_but_unusable() -> dict[str, bytes]:
    """Bodies correctly signed with the endpoint's secret that are not a usable event."""
    event = hostile_update()
    return {
        "malformed-json": b'{"id": "evt_1", "type": "customer.updated",',
        "json-array": b"[1, 2, 3]",
        "json-string": b'"customer.updated"',
        "deeply-nested-json": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        "nested-arrays": b"[" * 100_000 + b"]" * 100_000,
        "nan-literal": json.dumps({**event, "created": float("nan")}).encode(),
        "infinity-in-object": json.dumps(
            {**event, "data": {"object": {**event["data"]["object"], "balance": float("inf")}}}
        ).encode(),
        "created-as-text": json.dumps({**event, "created": "yesterday"}).encode(),
        "id-as-number": json.dumps({**event, "id": 12345}).encode(),
        "type-as-list": json.dumps({**event, "type": ["customer.updated"]}).encode(),
        "object-is-a-list": json.dumps({**event, "data": {"object": [event]}}).encode(),
        "data-missing": json.dumps({k: v for k, v in event.items() if k != "data"}).encode(),
        "thin-v2-event": json.dumps({"id": "evt_v2", "object": "v2.core.event"}).encode(),
        "live-event-for-a-test-key": json.dumps({**event, "livemode": True}).encode(),
        "connected-account-event": json.dumps({**event, "account": "acct_other"}).encode(),
    }


@pytest.mark.parametrize("case", sorted(signed_but_unusable()))
def test_signed_bodies_that_are_not_usable_events_are_refused(
    client: Client, webhook_url: str, world: Customer, case: str
) -> None:
    body, signature = signed(signed_but_unusable()[case])
    before = stored_state()

    response = send(client, webhook_url, body, signature)

    assert response.status_code == 400, response.content
    assert stored_state() == before


def test_a_test_mode_event_is_refused_by_a_live_key(
    client: Client, webhook_url: str, world: Customer, settings: Any
) -> None:
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "OPTIONS": {**settings.PAYMENTS_SYNC["OPTIONS"], **LIVE_KEY_OPTIONS},
    }
    before = stored_state()
    response = send(client, webhook_url, *signed(hostile_update(livemode=False)))
    assert response.status_code == 400
    assert "mode" in response.json()["error"]
    assert stored_state() == before
    # The same key takes a live event.
    live = hostile_update(livemode=True)
    response = send(client, webhook_url, *signed(live))
    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get().event_id == live["id"]


@pytest.mark.parametrize("declared", [None, "lie"])
def test_an_oversized_body_is_refused_before_it_is_read_whole(
    client: Client, webhook_url: str, world: Customer, declared: str | None, settings: Any
) -> None:
    event = hostile_update()
    event["data"]["object"]["metadata"] = {"padding": "x" * 600_000}
    body, signature = signed(event)
    before = stored_state()
    extra = {"CONTENT_LENGTH": "12"} if declared == "lie" else {}
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "WEBHOOK_MAX_BODY_SIZE": 512 * 1024}
    response = send(client, webhook_url, body, signature, **extra)
    # A lying Content-Length makes the server read 12 bytes: not a valid signature then.
    assert response.status_code == 400
    assert stored_state() == before


def test_other_methods_are_not_allowed(client: Client, webhook_url: str) -> None:
    for method in ("get", "put", "patch", "delete"):
        assert getattr(client, method)(webhook_url).status_code == 405


def test_an_unknown_event_type_is_stored_verified_and_changes_nothing(
    post_event: Callable[..., Any], world: Customer
) -> None:
    before = stored_state()
    event = stripe_event("radar.early_fraud_warning.created", {"id": "issfr_1", "object": "x"})
    response = post_event(event)
    assert response.status_code == 200
    row = WebhookEvent.objects.get()
    assert (row.event_id, row.status) == (event["id"], "ignored")
    after = stored_state()
    after.pop("django_payments_sync.WebhookEvent")
    before.pop("django_payments_sync.WebhookEvent")
    assert after == before


def test_a_replay_within_the_tolerance_is_a_duplicate_and_changes_nothing(
    post_event: Callable[..., Any], world: Customer
) -> None:
    event = stripe_event(
        "customer.updated", stripe_customer("cus_A", email="a2@example.com", name="Ada")
    )
    assert post_event(event).json()["duplicate"] is False
    before = stored_state()
    again = post_event(event, timestamp=int(time.time()) - 200)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert stored_state() == before


BOOKKEEPING = ("django_payments_sync.WebhookEvent", "django_payments_sync.External")


def business_state() -> dict[str, list[dict[str, Any]]]:
    """The stored rows but the event log and the links' bookkeeping (last event seen)."""
    return {k: v for k, v in stored_state().items() if not k.startswith(BOOKKEEPING)}


#: A field of the wrong type is read as absent: these are the only changes it may make.
ABSENT_PERIOD = {"current_period_start", "current_period_end"}
READ_AS_ABSENT = {
    "subscription-items-a-string": ABSENT_PERIOD,
    "subscription-item-a-string": ABSENT_PERIOD,
    "subscription-period-text": {"current_period_end"},
    "subscription-period-beyond-calendars": {"current_period_end"},
}


def weird_objects() -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """Event type, a clean object matching the world, and the same object with a field of an
    unexpected type: the weird one must answer 200 and change nothing else the clean one set
    (a field of the wrong type reads as absent, see READ_AS_ABSENT)."""
    sub = stripe_subscription("sub_A", customer="cus_A", price="price_A", status="active")
    item = sub["items"]["data"][0]
    customer = stripe_customer("cus_A", email="a@example.com", name="Ada")
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_A",
        "subscription": "sub_A",
        "status": "paid",
        "amount_paid": 1500,
        "currency": "eur",
    }
    session = {"id": "cs_1", "object": "checkout.session", "customer": "cus_A", "mode": "payment"}
    price = stripe_price("price_A", product="prod_A")
    updated = "customer.subscription.updated"
    return {
        "subscription-quantity-text": (
            updated,
            sub,
            {**sub, "items": {"data": [{**item, "quantity": "lots"}]}},
        ),
        "subscription-items-a-string": (updated, sub, {**sub, "items": "all of them"}),
        "subscription-item-a-string": (updated, sub, {**sub, "items": {"data": ["si_1"]}}),
        "subscription-customer-a-number": (updated, sub, {**sub, "customer": 42}),
        "subscription-period-text": (
            updated,
            sub,
            {**sub, "items": {"data": [{**item, "current_period_end": "soon"}]}},
        ),
        "subscription-period-beyond-calendars": (
            updated,
            sub,
            {**sub, "items": {"data": [{**item, "current_period_end": 10**18}]}},
        ),
        "customer-event-with-a-subscription-object": ("customer.updated", customer, sub),
        "customer-email-a-list": ("customer.updated", customer, {**customer, "email": ["x@y"]}),
        "customer-metadata-a-list": (
            "customer.updated",
            customer,
            {**customer, "metadata": ["payments_sync_id", "1"]},
        ),
        "customer-address-a-string": (
            "customer.updated",
            customer,
            {**customer, "address": "somewhere"},
        ),
        "invoice-amount-text": ("invoice.paid", invoice, {**invoice, "amount_paid": "all"}),
        "checkout-details-a-list": (
            "checkout.session.completed",
            session,
            {**session, "customer_details": ["x"]},
        ),
        "price-amount-text": ("price.updated", price, {**price, "unit_amount": "free"}),
    }


@pytest.mark.parametrize("case", sorted(weird_objects()))
def test_events_with_unexpected_object_types_answer_cleanly_and_change_nothing(
    post_event: Callable[..., Any], world: Customer, case: str
) -> None:
    event_type, clean, weird = weird_objects()[case]
    now = int(time.time())
    assert post_event(stripe_event(event_type, clean, created=now - 10)).status_code == 200
    before = business_state()

    response = post_event(stripe_event(event_type, weird, created=now))

    assert response.status_code == 200, response.content
    after = business_state()
    changed = {
        (label, key, row[key], new[key])
        for label in before
        for row, new in zip(before[label], after[label], strict=False)
        for key in row
        if key != "updated_at" and row[key] != new.get(key)
    }
    allowed = READ_AS_ABSENT.get(case, set())
    assert {c for c in changed if not (c[1] in allowed and c[3] is None)} == set()
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}


def test_a_nul_character_in_a_signed_event_is_dropped_not_a_database_error(
    post_event: Callable[..., Any], world: Customer
) -> None:
    """PostgreSQL stores no NUL in text or jsonb: it answered 500 for this body before."""
    obj = stripe_customer("cus_A", email="a@example.com", name="Ada\x00", metadata={"k\x00": "v"})
    response = post_event(stripe_event("customer.updated", obj))
    assert response.status_code == 200, response.content
    stored = WebhookEvent.objects.get().payload["data"]["object"]
    assert (stored["name"], stored["metadata"]) == ("Ada", {"k": "v"})
