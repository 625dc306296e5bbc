"""Verifying ``Paddle-Signature`` and reading Paddle's notifications in the library's words.

A notification is ``{"event_id", "event_type", "occurred_at", "notification_id", "data"}``;
``event_id`` names the event (the same for each destination and each retry: the library's
exactly-once key), ``occurred_at`` orders it to the microsecond.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django_payments_sync.backends.paddle import objects
from django_payments_sync.backends.types import (
    CATALOG_KEY,
    EventKind,
    ProviderEvent,
    ordering_key_of,
)
from django_payments_sync.exceptions import WebhookVerificationError

SIGNATURE_HEADER = "Paddle-Signature"
PROVIDER = "paddle"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def parse_signature(header: str) -> tuple[int, list[str]]:
    """``ts=...;h1=...[;h1=...]`` as the timestamp and every ``h1`` (several during a
    rotation of the secret key)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "ts" and value.isdigit():
            timestamp = int(value)
        elif key == "h1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookVerificationError(
            f"The {SIGNATURE_HEADER} header is not 'ts=<time>;h1=<signature>'."
        )
    return timestamp, signatures


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``h1`` of ``body`` at ``timestamp``: HMAC-SHA256 of ``ts:body`` with the key."""
    message = str(timestamp).encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Iterable[str], timestamp: int | None = None) -> str:
    """A ``Paddle-Signature`` value for ``body`` (one ``h1`` per secret), as Paddle sends."""
    ts = int(time.time()) if timestamp is None else timestamp
    return ";".join([f"ts={ts}", *(f"h1={sign(body, s, ts)}" for s in secrets)])


def verify_paddle_webhook(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str],
    tolerance: int,
    livemode: bool,
    now: Callable[[], float] = time.time,
) -> ProviderEvent:
    """Check ``Paddle-Signature`` against each secret key and parse the notification.

    Any ``h1`` made with any configured key passes (Paddle signs with the old and the new key
    while a key is rotated). A timestamp more than ``tolerance`` seconds away is refused (0:
    not checked).
    """
    keys = [s for s in secrets if s]
    if not keys:
        raise WebhookVerificationError(
            "No Paddle webhook secret key is configured: set "
            "PAYMENTS_SYNC['OPTIONS']['webhook_secret'] to the notification destination's "
            "secret key (pdl_ntfset_...)."
        )
    header = _header(headers, SIGNATURE_HEADER)
    if not header:
        raise WebhookVerificationError(f"The request has no {SIGNATURE_HEADER} header.")
    timestamp, signatures = parse_signature(header)
    if tolerance and abs(now() - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"The {SIGNATURE_HEADER} timestamp is more than {tolerance} seconds away."
        )
    expected = [sign(body, key, timestamp) for key in keys]
    if not any(hmac.compare_digest(e, s) for e in expected for s in signatures):
        raise WebhookVerificationError("Paddle signature verification failed.")
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookVerificationError("The webhook body is not JSON text.") from exc
    except RecursionError as exc:
        raise WebhookVerificationError("The webhook body is nested too deeply.") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("The webhook body is not a JSON object.")
    if "\\u0000" in body.decode("utf-8"):
        payload = _without_nul(payload)
    return parse_paddle_event(payload, livemode=livemode)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _without_nul(value: Any) -> Any:
    """PostgreSQL stores no NUL character; none means anything in a Paddle entity."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


#: Paddle's notification types -> the library's kinds, where the type alone decides.
PADDLE_EVENT_KINDS: dict[str, EventKind] = {
    "customer.created": EventKind.CUSTOMER_CREATED,
    "customer.imported": EventKind.CUSTOMER_CREATED,
    "customer.updated": EventKind.CUSTOMER_UPDATED,
    "business.created": EventKind.TAX_ID_CREATED,
    "business.imported": EventKind.TAX_ID_CREATED,
    "business.updated": EventKind.TAX_ID_UPDATED,
    "product.created": EventKind.PRODUCT_CREATED,
    "product.imported": EventKind.PRODUCT_CREATED,
    "product.updated": EventKind.PRODUCT_UPDATED,
    "price.created": EventKind.PRICE_CREATED,
    "price.imported": EventKind.PRICE_CREATED,
    "price.updated": EventKind.PRICE_UPDATED,
    "subscription.created": EventKind.SUBSCRIPTION_CREATED,
    "subscription.imported": EventKind.SUBSCRIPTION_CREATED,
    "subscription.trialing": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.activated": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.updated": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.past_due": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.paused": EventKind.SUBSCRIPTION_PAUSED,
    "subscription.resumed": EventKind.SUBSCRIPTION_RESUMED,
    "subscription.canceled": EventKind.SUBSCRIPTION_ENDED,
    "transaction.created": EventKind.INVOICE_CREATED,
    "transaction.billed": EventKind.INVOICE_FINALIZED,
    "transaction.paid": EventKind.INVOICE_PAID,
    "transaction.completed": EventKind.CHECKOUT_COMPLETED,
    "transaction.payment_failed": EventKind.INVOICE_PAYMENT_FAILED,
    "transaction.past_due": EventKind.INVOICE_PAYMENT_FAILED,
    "transaction.canceled": EventKind.CHECKOUT_EXPIRED,
}
#: Archiving is Paddle's deletion: an update to ``archived`` is the entity's end.
_ARCHIVED_KINDS = {
    "customer": EventKind.CUSTOMER_DELETED,
    "business": EventKind.TAX_ID_DELETED,
    "product": EventKind.PRODUCT_DELETED,
    "price": EventKind.PRICE_DELETED,
}
#: Paddle's entity (the type's prefix) -> the neutral object type.
OBJECT_TYPES = {
    "customer": "customer",
    "address": "address",
    "business": "tax_id",
    "product": "product",
    "price": "price",
    "subscription": "subscription",
    "transaction": "transaction",
}
CATALOG_ENTITIES = frozenset({"product", "price"})
#: The neutral fields a Paddle update may have changed: Paddle sends the whole entity and no
#: previous values, so an update counts as the provider's word on each of them (the handlers'
#: time rules still keep a newer local edit).
_UPDATE_FIELDS = {
    "customer": frozenset({"email", "name", "metadata"}),
}


def paddle_event_kind(event_type: str) -> EventKind:
    """The kind of a notification type, without its body (for ranking events of one time)."""
    return PADDLE_EVENT_KINDS.get(event_type, EventKind.UNKNOWN)


def _kind(entity: str, event_type: str, data: Mapping[str, Any]) -> EventKind:
    kind = paddle_event_kind(event_type)
    if event_type.endswith(".updated") and entity in _ARCHIVED_KINDS and not objects.active(data):
        return _ARCHIVED_KINDS[entity]
    if entity == "transaction":
        checkout = objects.is_checkout(data)
        if event_type == "transaction.paid" and checkout and not objects.is_recurring(data):
            # A one-time checkout's payment: its completion (transaction.completed) is what
            # the library applies, and signals. A subscription's first payment is an invoice
            # paid, as a renewal's is.
            return EventKind.UNKNOWN
        if event_type == "transaction.completed" and not checkout:
            # A renewal's payment: transaction.paid told it already.
            return EventKind.INVOICE_PAYMENT_SUCCEEDED
        if event_type == "transaction.canceled" and not checkout:
            return EventKind.UNKNOWN
        if event_type == "transaction.payment_failed" and checkout:
            # A declined card at checkout: the customer may try again on the same page.
            return EventKind.UNKNOWN
    return kind


def _neutral(entity: str, kind: EventKind, data: Mapping[str, Any]) -> Any:
    if entity == "customer":
        return objects.customer_state(data)
    if entity == "address":
        return objects.address_of(data)
    if entity == "business":
        return objects.tax_id_state(data)
    if entity == "product":
        return objects.product_state(data)
    if entity == "price":
        return objects.price_state(data)
    if entity == "subscription":
        return objects.subscription_state(data)
    if entity == "transaction":
        if kind in (EventKind.CHECKOUT_COMPLETED, EventKind.CHECKOUT_EXPIRED):
            return objects.checkout_state(data)
        return objects.invoice_state(data)
    return None


def parse_paddle_event(payload: Mapping[str, Any], *, livemode: bool = False) -> ProviderEvent:
    """A :class:`ProviderEvent` from a Paddle notification (no API call)."""
    event_id = payload.get("event_id")
    event_type = payload.get("event_type")
    data = payload.get("data")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise WebhookVerificationError("The body is not a Paddle notification (no event_id).")
    if not isinstance(data, dict):
        raise WebhookVerificationError("The body is not a Paddle notification (no data).")
    occurred = objects.timestamp(payload.get("occurred_at"))
    if occurred is None:
        raise WebhookVerificationError("The body is not a Paddle notification (no occurred_at).")
    entity = event_type.partition(".")[0]
    object_type = OBJECT_TYPES.get(entity, entity)
    object_id = objects.text(data.get("id"))
    if entity == "customer":
        customer_id: str | None = object_id or None
    elif entity in CATALOG_ENTITIES:
        customer_id = None
    else:
        customer_id = objects.text(data.get("customer_id")) or None
    kind = _kind(entity, event_type, data)
    if entity in CATALOG_ENTITIES:
        ordering_key = CATALOG_KEY
    else:
        ordering_key = ordering_key_of(customer_id, object_type, object_id)
    return ProviderEvent(
        provider=PROVIDER,
        id=event_id,
        type=event_type,
        created=occurred,
        livemode=livemode,
        object_type=object_type,
        object_id=object_id,
        object=data,
        customer_id=customer_id,
        raw=dict(payload),
        kind=kind,
        data=_neutral(entity, kind, data),
        ordering_key=ordering_key,
        changed=_UPDATE_FIELDS.get(entity) if kind is EventKind.CUSTOMER_UPDATED else None,
    )
