"""Paddle's notifications: ``Paddle-Signature`` on Paddle's own signed bodies, and every
notification type of Paddle's fixtures read in the library's vocabulary."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from django_payments_sync.backends.paddle import PaddleBackend
from django_payments_sync.backends.paddle.events import (
    PADDLE_EVENT_KINDS,
    parse_paddle_event,
    signature_header,
    verify_paddle_webhook,
)
from django_payments_sync.backends.types import (
    CATALOG_KEY,
    Address,
    CheckoutSession,
    EventKind,
    ProviderCustomer,
    ProviderInvoice,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
)
from django_payments_sync.exceptions import WebhookVerificationError

FIXTURES = Path(__file__).parent / "paddle_fixtures"
ENTITIES = FIXTURES / "notification" / "entity"

#: The secret key and signatures of the SDK's own test of these bodies
#: (paddle-python-sdk, tests/Unit/Notification/test_Verifier.py).
SDK_SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"
SIGNED = {
    "standard_payload": (
        1710498758,
        "558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744",
    ),
    "special_chars_payload": (
        1710498288,
        "38219b3ba1578184e625c29d201a27cd25bd69e2ec9c3ab87dcb90d87ff73a41",
    ),
}
SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_payments_sync_tests_secret_key"


def signed_body(name: str) -> bytes:
    return (FIXTURES / "signed" / f"{name}.json").read_text().strip().encode()


def verify(body: bytes, header: str, *, secrets: list[str], at: float, tolerance: int = 5) -> Any:
    return verify_paddle_webhook(
        body,
        {"Paddle-Signature": header},
        secrets=secrets,
        tolerance=tolerance,
        livemode=False,
        now=lambda: at,
    )


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_paddles_signed_bodies_verify(name: str) -> None:
    ts, h1 = SIGNED[name]
    event = verify(signed_body(name), f"ts={ts};h1={h1}", secrets=[SDK_SECRET], at=ts + 1)
    payload = json.loads(signed_body(name))
    assert (event.provider, event.id, event.type) == (
        "paddle",
        payload["event_id"],
        payload["event_type"],
    )
    assert event.kind is EventKind.CUSTOMER_CREATED
    assert isinstance(event.data, ProviderCustomer)
    assert event.data.email == payload["data"]["email"]
    # occurred_at keeps its microseconds: ordering is finer than Stripe's seconds.
    assert event.created == dt.datetime.fromisoformat(payload["occurred_at"])
    assert event.created.microsecond != 0


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_one_changed_byte_fails(name: str) -> None:
    ts, h1 = SIGNED[name]
    body = signed_body(name)
    tampered = body.replace(b'"event_id"', b'"event_iD"', 1)
    with pytest.raises(WebhookVerificationError, match="signature verification failed"):
        verify(tampered, f"ts={ts};h1={h1}", secrets=[SDK_SECRET], at=ts)
    with pytest.raises(WebhookVerificationError, match="signature verification failed"):
        # The timestamp is signed too: a replay with a fresh ts fails.
        verify(body, f"ts={ts + 1};h1={h1}", secrets=[SDK_SECRET], at=ts)
    with pytest.raises(WebhookVerificationError, match="signature verification failed"):
        verify(body, f"ts={ts};h1={h1}", secrets=[SECRET], at=ts)


def test_the_tolerance_window() -> None:
    ts, h1 = SIGNED["standard_payload"]
    body, header = signed_body("standard_payload"), f"ts={ts};h1={h1}"
    assert verify(body, header, secrets=[SDK_SECRET], at=ts + 5).id
    assert verify(body, header, secrets=[SDK_SECRET], at=ts - 5).id
    for at in (ts + 6, ts - 6):
        with pytest.raises(WebhookVerificationError, match="more than 5 seconds"):
            verify(body, header, secrets=[SDK_SECRET], at=at)
    # 0: not checked (replaying stored bodies).
    assert verify(body, header, secrets=[SDK_SECRET], at=ts + 10**6, tolerance=0).id


def test_secret_rotation_any_h1_with_any_key() -> None:
    body = signed_body("standard_payload")
    now = int(time.time())
    old, new = SECRET, SECRET + "-new"
    # During a rotation Paddle signs with both keys: two h1.
    both = signature_header(body, [old, new], now)
    assert both.count("h1=") == 2
    assert verify(body, both, secrets=[new], at=now).id
    assert verify(body, both, secrets=[old], at=now).id
    # A site holding both keys accepts a body signed with either alone.
    assert verify(body, signature_header(body, [old], now), secrets=[new, old], at=now).id
    with pytest.raises(WebhookVerificationError):
        verify(body, signature_header(body, ["pdl_ntfset_other"], now), secrets=[old, new], at=now)


@pytest.mark.parametrize(
    "header",
    ["", "h1=abc", "ts=abc;h1=abc", "ts=1710498758", "ts=1710498758;h1=", "garbage"],
)
def test_malformed_signature_headers(header: str) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(signed_body("standard_payload"), header, secrets=[SDK_SECRET], at=1710498758)


def test_the_backend_verifies_with_its_options(settings: Any) -> None:
    backend = PaddleBackend(api_key="pdl_sdbx_x", webhook_secret=[SECRET, SECRET + "-old"])
    body = signed_body("standard_payload")
    event = backend.verify_webhook(body, {"paddle-signature": signature_header(body, [SECRET])})
    assert event.livemode is False
    with pytest.raises(WebhookVerificationError, match="no Paddle-Signature"):
        backend.verify_webhook(body, {})
    # An old timestamp is refused by WEBHOOK_TOLERANCE (300 s by default).
    stale = signature_header(body, [SECRET], int(time.time()) - 301)
    with pytest.raises(WebhookVerificationError, match="300 seconds"):
        backend.verify_webhook(body, {"Paddle-Signature": stale})
    with pytest.raises(WebhookVerificationError, match="No Paddle webhook secret"):
        PaddleBackend(api_key="pdl_sdbx_x").verify_webhook(body, {"Paddle-Signature": stale})
    live = PaddleBackend(api_key="pdl_live_x", environment="production", webhook_secret=SECRET)
    assert live.verify_webhook(
        body, {"Paddle-Signature": signature_header(body, [SECRET])}
    ).livemode


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"not json",
        b'{"event_id": "evt_1"}',
        b'{"event_id": "evt_1", "event_type": "x", "data": {}, "occurred_at": "yesterday"}',
        b"\xff\xfe",
        b"[" * 100000 + b"]" * 100000,
    ],
)
def test_signed_but_not_a_notification(body: bytes) -> None:
    now = int(time.time())
    with pytest.raises(WebhookVerificationError):
        verify(body, signature_header(body, [SECRET], now), secrets=[SECRET], at=now)


# --- translation ------------------------------------------------------------------------------
def notification(event_type: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "event_id": "evt_01hv8x2a5kw3fm5e0hkpv3q3r9",
        "event_type": event_type,
        "occurred_at": "2024-04-12T11:30:30.123456Z",
        "notification_id": "ntf_01hv8x2a9q4bp0dwvhsjcecxnr",
        "data": data,
        **extra,
    }


def entity(event_type: str) -> dict[str, Any]:
    return json.loads((ENTITIES / f"{event_type}.json").read_text())


#: Each fixture's type: its kind, the neutral type of its object, its ordering key.
CUSTOMER_KEY = "customer:ctm_01hv6y1jedq4p1n0yqn5ba3ky4"
EXPECTED: dict[str, tuple[EventKind, type | None, str]] = {
    "customer.created": (EventKind.CUSTOMER_CREATED, ProviderCustomer, CUSTOMER_KEY),
    "customer.imported": (EventKind.CUSTOMER_CREATED, ProviderCustomer, CUSTOMER_KEY),
    "customer.updated": (EventKind.CUSTOMER_UPDATED, ProviderCustomer, CUSTOMER_KEY),
    "address.created": (EventKind.UNKNOWN, Address, CUSTOMER_KEY),
    "address.imported": (EventKind.UNKNOWN, Address, CUSTOMER_KEY),
    "address.updated": (EventKind.UNKNOWN, Address, CUSTOMER_KEY),
    "business.created": (EventKind.TAX_ID_CREATED, ProviderTaxId, CUSTOMER_KEY),
    "business.imported": (EventKind.TAX_ID_CREATED, ProviderTaxId, CUSTOMER_KEY),
    "business.updated": (EventKind.TAX_ID_UPDATED, ProviderTaxId, CUSTOMER_KEY),
    "product.created": (EventKind.PRODUCT_CREATED, ProviderProduct, CATALOG_KEY),
    "product.imported": (EventKind.PRODUCT_CREATED, ProviderProduct, CATALOG_KEY),
    "product.updated": (EventKind.PRODUCT_UPDATED, ProviderProduct, CATALOG_KEY),
    "price.created": (EventKind.PRICE_CREATED, ProviderPrice, CATALOG_KEY),
    "price.imported": (EventKind.PRICE_CREATED, ProviderPrice, CATALOG_KEY),
    "price.updated": (EventKind.PRICE_UPDATED, ProviderPrice, CATALOG_KEY),
    "subscription.created": (EventKind.SUBSCRIPTION_CREATED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.imported": (EventKind.SUBSCRIPTION_CREATED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.activated": (EventKind.SUBSCRIPTION_UPDATED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.trialing": (EventKind.SUBSCRIPTION_UPDATED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.updated": (EventKind.SUBSCRIPTION_UPDATED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.past_due": (EventKind.SUBSCRIPTION_UPDATED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.paused": (EventKind.SUBSCRIPTION_PAUSED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.resumed": (EventKind.SUBSCRIPTION_RESUMED, ProviderSubscription, CUSTOMER_KEY),
    "subscription.canceled": (EventKind.SUBSCRIPTION_ENDED, ProviderSubscription, CUSTOMER_KEY),
    # A guest's draft checkout has no customer yet: ordered by itself.
    "transaction.created": (
        EventKind.INVOICE_CREATED,
        ProviderInvoice,
        "transaction:txn_01hv8wptq8987qeep44cyrewp9",
    ),
    "transaction.ready": (EventKind.UNKNOWN, ProviderInvoice, CUSTOMER_KEY),
    "transaction.updated": (EventKind.UNKNOWN, ProviderInvoice, CUSTOMER_KEY),
    "transaction.revised": (EventKind.UNKNOWN, ProviderInvoice, CUSTOMER_KEY),
    "transaction.billed": (EventKind.INVOICE_FINALIZED, ProviderInvoice, CUSTOMER_KEY),
    # A subscription checkout's first payment: an invoice paid (a one-time one: UNKNOWN).
    "transaction.paid": (EventKind.INVOICE_PAID, ProviderInvoice, CUSTOMER_KEY),
    "transaction.completed": (EventKind.CHECKOUT_COMPLETED, CheckoutSession, CUSTOMER_KEY),
    # A declined card at checkout: the customer may retry on the page.
    "transaction.payment_failed": (EventKind.UNKNOWN, ProviderInvoice, CUSTOMER_KEY),
    "transaction.past_due": (EventKind.INVOICE_PAYMENT_FAILED, ProviderInvoice, CUSTOMER_KEY),
    "transaction.canceled": (EventKind.UNKNOWN, ProviderInvoice, CUSTOMER_KEY),
}


def test_every_fixture_type_is_covered() -> None:
    assert {p.stem for p in ENTITIES.glob("*.json")} == set(EXPECTED)
    assert set(PADDLE_EVENT_KINDS) <= set(EXPECTED)


@pytest.mark.parametrize("event_type", sorted(EXPECTED))
def test_translation(event_type: str) -> None:
    kind, neutral, key = EXPECTED[event_type]
    data = entity(event_type)
    event = parse_paddle_event(notification(event_type, data))
    assert (event.kind, event.ordering_key) == (kind, key)
    assert isinstance(event.data, neutral) if neutral else event.data is None
    assert event.object_id == data["id"]
    assert event.created == dt.datetime(2024, 4, 12, 11, 30, 30, 123456, tzinfo=dt.UTC)
    if key.startswith("customer:"):
        assert event.customer_id == key.removeprefix("customer:")
    # Parsing the stored payload again gives the same event (replay, ordering tie-breaks).
    again = parse_paddle_event(event.raw)
    assert (again.id, again.kind, again.data, again.ordering_key) == (
        event.id,
        event.kind,
        event.data,
        event.ordering_key,
    )


def test_neutral_fields_of_a_subscription() -> None:
    sub = parse_paddle_event(notification("subscription.trialing", entity("subscription.trialing")))
    data = sub.data
    assert isinstance(data, ProviderSubscription)
    assert (data.status, data.price_id, data.quantity) == (
        "trialing",
        "pri_01hv0vax6rv18t4tamj848ne4d",
        10,
    )
    assert data.trial_end == dt.datetime(2024, 4, 26, 11, 30, 29, 637000, tzinfo=dt.UTC)
    assert data.current_period_end == data.trial_end
    assert data.cancel_at_period_end is False
    canceled = entity("subscription.activated")
    canceled["scheduled_change"] = {
        "action": "cancel",
        "effective_at": "2024-05-12T11:30:29.637000Z",
        "resume_at": None,
    }
    state = parse_paddle_event(notification("subscription.updated", canceled)).data
    assert state.cancel_at_period_end is True
    ended = parse_paddle_event(
        notification("subscription.canceled", entity("subscription.canceled"))
    )
    assert ended.data.status == "canceled"
    assert ended.data.ended_at == ended.data.canceled_at is not None


def test_neutral_fields_of_a_checkout_and_an_invoice() -> None:
    completed = parse_paddle_event(
        notification("transaction.completed", entity("transaction.completed"))
    ).data
    assert isinstance(completed, CheckoutSession)
    assert (completed.status, completed.payment_status, completed.mode) == (
        "complete",
        "paid",
        "subscription",
    )
    assert completed.subscription_id == "sub_01hv8x29kz0t586xy6zn1a62ny"
    assert completed.customer_id == "ctm_01hv6y1jedq4p1n0yqn5ba3ky4"
    # A renewal's completion is a second notice of its payment, not a checkout.
    renewal = entity("transaction.completed")
    renewal["origin"] = "subscription_recurring"
    event = parse_paddle_event(notification("transaction.completed", renewal))
    assert event.kind is EventKind.INVOICE_PAYMENT_SUCCEEDED
    assert isinstance(event.data, ProviderInvoice)
    assert (event.data.status, event.data.amount_paid, event.data.currency) == (
        "paid",
        65215,
        "usd",
    )
    renewal["status"] = "paid"
    assert (
        parse_paddle_event(notification("transaction.paid", renewal)).kind is EventKind.INVOICE_PAID
    )
    # A one-time checkout's payment is applied on its completion only.
    once = entity("transaction.paid")
    for item in once["items"]:
        item["price"]["billing_cycle"] = None
    assert parse_paddle_event(notification("transaction.paid", once)).kind is EventKind.UNKNOWN
    past_due = parse_paddle_event(
        notification("transaction.past_due", entity("transaction.past_due"))
    )
    assert (past_due.data.amount_due, past_due.data.amount_paid) == (43549, 0)
    assert past_due.data.subscription_id == "sub_01hv8x29kz0t586xy6zn1a62ny"


def test_archiving_is_the_deletion() -> None:
    for event_type, kind in (
        ("customer.updated", EventKind.CUSTOMER_DELETED),
        ("product.updated", EventKind.PRODUCT_DELETED),
        ("price.updated", EventKind.PRICE_DELETED),
        ("business.updated", EventKind.TAX_ID_DELETED),
    ):
        data = {**entity(event_type), "status": "archived"}
        assert parse_paddle_event(notification(event_type, data)).kind is kind


def test_our_custom_data_keys_stay_out_of_the_metadata() -> None:
    data = entity("customer.updated")
    data["custom_data"] = {
        "payments_sync_id": "7",
        "payments_sync_tax_exemption": "reverse",
        "team": "x",
        "nested": {"a": 1},
    }
    state = parse_paddle_event(notification("customer.updated", data)).data
    assert state.metadata == {"payments_sync_id": "7", "team": "x"}
    assert state.tax_exemption == "reverse"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event_id": "evt_1", "event_type": "customer.created", "data": []},
        {"event_id": "", "event_type": "customer.created", "data": {}},
        {"event_id": "evt_1", "event_type": "customer.created", "data": {}, "occurred_at": 5},
    ],
)
def test_not_a_notification(payload: dict[str, Any]) -> None:
    with pytest.raises(WebhookVerificationError):
        parse_paddle_event(payload)


def test_event_follows_by_updated_at() -> None:
    backend = PaddleBackend(api_key="pdl_sdbx_x")
    first = entity("subscription.updated")
    later = {**first, "updated_at": "2024-04-12T11:40:00.000001Z"}
    a = backend.parse_event(notification("subscription.updated", first))
    b = backend.parse_event(notification("subscription.updated", later))
    assert backend.event_follows(b, a) is True
    assert backend.event_follows(a, b) is False
    assert backend.event_follows(a, a) is None
