"""Verifying Stripe webhook requests with the SDK and parsing Stripe events into ProviderEvents."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import stripe

from django_payments_sync.backends.types import ProviderEvent
from django_payments_sync.exceptions import WebhookVerificationError

SIGNATURE_HEADER = "Stripe-Signature"

#: Object types whose events describe the catalog rather than one customer.
CATALOG_OBJECT_TYPES = frozenset({"product", "price", "plan"})


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever the case (Django's ``request.headers`` or a plain dict)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def verify_stripe_webhook(
    body: bytes, headers: Mapping[str, str], *, secret: str, tolerance: int
) -> ProviderEvent:
    """Check the ``Stripe-Signature`` of ``body`` with the SDK and parse it.

    Raises :class:`WebhookVerificationError` (a 400) on a missing or wrong signature, a
    timestamp older than ``tolerance`` seconds, or a body that is not a JSON Stripe event.
    """
    if not secret:
        raise WebhookVerificationError(
            "No Stripe webhook signing secret is configured: set "
            "PAYMENTS_SYNC['OPTIONS']['webhook_secret'] to the endpoint's whsec_... secret."
        )
    signature = _header(headers, SIGNATURE_HEADER)
    if not signature:
        raise WebhookVerificationError(f"The request has no {SIGNATURE_HEADER} header.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError("The webhook body is not UTF-8 text.") from exc
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookVerificationError(f"Stripe signature verification failed: {exc}") from exc
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise WebhookVerificationError("The webhook body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("The webhook body is not a JSON object.")
    return parse_stripe_event(payload)


def _id_of(value: Any) -> str | None:
    """An id from a field that holds either the id or the expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


def stripe_customer_id(obj: Mapping[str, Any]) -> str | None:
    """The Stripe customer a Stripe object belongs to (the object itself for a customer)."""
    if obj.get("object") == "customer":
        return _id_of(obj.get("id"))
    customer = _id_of(obj.get("customer"))
    if customer:
        return customer
    owner = obj.get("owner")
    if isinstance(owner, Mapping):
        return _id_of(owner.get("customer"))
    return None


def parse_stripe_event(payload: Mapping[str, Any]) -> ProviderEvent:
    """A :class:`ProviderEvent` from a Stripe event as sent to webhooks (no API call).

    ``customer_id`` is the customer the event concerns, which is also its ordering key;
    catalog events (products, prices) have none and are ordered under one catalog key.
    """
    try:
        event_id = payload["id"]
        event_type = payload["type"]
        created = payload["created"]
        obj = payload["data"]["object"]
    except (KeyError, TypeError) as exc:
        raise WebhookVerificationError(
            f"The body is not a Stripe event (missing {exc}); thin event notifications "
            "(v2) are not supported."
        ) from exc
    if (
        not isinstance(event_id, str)
        or not isinstance(event_type, str)
        or not isinstance(created, int)
        or not isinstance(obj, dict)
    ):
        raise WebhookVerificationError("The body is not a Stripe event (wrong field types).")
    previous = payload["data"].get("previous_attributes") or {}
    object_type = str(obj.get("object") or "")
    customer_id = None if object_type in CATALOG_OBJECT_TYPES else stripe_customer_id(obj)
    return ProviderEvent(
        provider="stripe",
        id=event_id,
        type=event_type,
        created=dt.datetime.fromtimestamp(created, tz=dt.UTC),
        livemode=bool(payload.get("livemode", False)),
        object_type=object_type,
        object_id=str(obj.get("id") or ""),
        object=obj,
        previous_attributes=dict(previous) if isinstance(previous, Mapping) else {},
        customer_id=customer_id,
        raw=dict(payload),
    )
