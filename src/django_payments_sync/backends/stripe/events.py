"""Verifying Stripe webhook requests with the SDK and parsing Stripe events into ProviderEvents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from django_payments_sync.backends.stripe.objects import (
    from_timestamp,
    stripe_customer_id,
    stripe_event_object,
)
from django_payments_sync.backends.types import EventKind, ProviderEvent, ordering_key_of
from django_payments_sync.backends.webhook_bodies import body_text, header, json_object
from django_payments_sync.exceptions import WebhookVerificationError

SIGNATURE_HEADER = "Stripe-Signature"

#: Object types whose events describe the catalog rather than one customer.
CATALOG_OBJECT_TYPES = frozenset({"product", "price", "plan"})


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
    signature = header(headers, SIGNATURE_HEADER)
    if not signature:
        raise WebhookVerificationError(f"The request has no {SIGNATURE_HEADER} header.")
    text = body_text(body)
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookVerificationError(f"Stripe signature verification failed: {exc}") from exc
    payload = json_object(text)
    return parse_stripe_event(payload)


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
    created_at = from_timestamp(created)
    if created_at is None:
        raise WebhookVerificationError("The body is not a Stripe event (no usable time).")
    previous = payload["data"].get("previous_attributes") or {}
    previous = dict(previous) if isinstance(previous, Mapping) else {}
    object_type = str(obj.get("object") or "")
    object_id = str(obj.get("id") or "")
    customer_id = None if object_type in CATALOG_OBJECT_TYPES else stripe_customer_id(obj)
    kind = STRIPE_EVENT_KINDS.get(event_type, EventKind.UNKNOWN)
    ordering_key = ordering_key_of(
        customer_id, object_type, object_id, catalog=object_type in CATALOG_OBJECT_TYPES
    )
    return ProviderEvent(
        provider="stripe",
        id=event_id,
        type=event_type,
        created=created_at,
        livemode=bool(payload.get("livemode", False)),
        object_type=object_type,
        object_id=object_id,
        object=obj,
        previous_attributes=previous,
        customer_id=customer_id,
        raw=dict(payload),
        kind=kind,
        data=stripe_event_object(object_type, obj),
        ordering_key=ordering_key,
        changed=(
            frozenset(_NEUTRAL_FIELDS.get(k, k) for k in previous)
            if event_type.endswith(".updated")
            else None
        ),
    )


#: Stripe's event types -> the library's kinds. Types not listed are stored and settled as
#: ``ignored`` ("no handler").
STRIPE_EVENT_KINDS: dict[str, EventKind] = {
    "customer.created": EventKind.CUSTOMER_CREATED,
    "customer.updated": EventKind.CUSTOMER_UPDATED,
    "customer.deleted": EventKind.CUSTOMER_DELETED,
    "customer.tax_id.created": EventKind.TAX_ID_CREATED,
    "customer.tax_id.updated": EventKind.TAX_ID_UPDATED,
    "customer.tax_id.deleted": EventKind.TAX_ID_DELETED,
    "product.created": EventKind.PRODUCT_CREATED,
    "product.updated": EventKind.PRODUCT_UPDATED,
    "product.deleted": EventKind.PRODUCT_DELETED,
    "price.created": EventKind.PRICE_CREATED,
    "price.updated": EventKind.PRICE_UPDATED,
    "price.deleted": EventKind.PRICE_DELETED,
    "plan.created": EventKind.PRICE_CREATED,
    "plan.updated": EventKind.PRICE_UPDATED,
    "plan.deleted": EventKind.PRICE_DELETED,
    "customer.subscription.created": EventKind.SUBSCRIPTION_CREATED,
    "customer.subscription.updated": EventKind.SUBSCRIPTION_UPDATED,
    "customer.subscription.trial_will_end": EventKind.SUBSCRIPTION_TRIAL_ENDING,
    "customer.subscription.paused": EventKind.SUBSCRIPTION_PAUSED,
    "customer.subscription.resumed": EventKind.SUBSCRIPTION_RESUMED,
    "customer.subscription.deleted": EventKind.SUBSCRIPTION_ENDED,
    "invoice.created": EventKind.INVOICE_CREATED,
    "invoice.finalized": EventKind.INVOICE_FINALIZED,
    "invoice.payment_failed": EventKind.INVOICE_PAYMENT_FAILED,
    "invoice.paid": EventKind.INVOICE_PAID,
    "invoice.payment_succeeded": EventKind.INVOICE_PAYMENT_SUCCEEDED,
    "invoice.payment_action_required": EventKind.INVOICE_PAYMENT_ACTION_REQUIRED,
    "invoice.updated": EventKind.INVOICE_UPDATED,
    "invoice.voided": EventKind.INVOICE_VOIDED,
    "invoice.marked_uncollectible": EventKind.INVOICE_MARKED_UNCOLLECTIBLE,
    "checkout.session.completed": EventKind.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": EventKind.CHECKOUT_PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": EventKind.CHECKOUT_PAYMENT_FAILED,
    "checkout.session.expired": EventKind.CHECKOUT_EXPIRED,
    "refund.created": EventKind.REFUND_CREATED,
    "refund.updated": EventKind.REFUND_UPDATED,
    "refund.failed": EventKind.REFUND_UPDATED,
    "charge.refunded": EventKind.PAYMENT_REFUNDED,
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
    "entitlements.active_entitlement_summary.updated": EventKind.ENTITLEMENTS_UPDATED,
}

#: Stripe's field names in ``previous_attributes`` -> the neutral types' names.
_NEUTRAL_FIELDS = {"tax_exempt": "tax_exemption"}


def stripe_event_kind(event_type: str) -> EventKind:
    return STRIPE_EVENT_KINDS.get(event_type, EventKind.UNKNOWN)
