"""Verifying Stripe webhook requests with the SDK and parsing Stripe events into ProviderEvents."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import stripe

from django_payments_sync.backends.types import (
    CATALOG_KEY,
    Address,
    CheckoutSession,
    EventKind,
    ProviderCustomer,
    ProviderEvent,
    ProviderInvoice,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
)
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
        payload = json.loads(text, parse_constant=_not_json)
    except ValueError as exc:
        raise WebhookVerificationError("The webhook body is not JSON.") from exc
    except RecursionError as exc:
        # Signed, yet nested deeper than the parser goes: no Stripe event is.
        raise WebhookVerificationError("The webhook body is nested too deeply.") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("The webhook body is not a JSON object.")
    if "\\u0000" in text:
        payload = _without_nul(payload)
    return parse_stripe_event(payload)


def _without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from its strings and keys: PostgreSQL stores
    none (in ``text`` or ``jsonb``), and they mean nothing in a Stripe object."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _not_json(name: str) -> Any:
    """``NaN`` and ``Infinity`` are Python's extensions, not JSON: no database stores them."""
    raise ValueError(f"{name} is not a JSON value")


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
    created_at = _when(created)
    if created_at is None:
        raise WebhookVerificationError("The body is not a Stripe event (no usable time).")
    previous = payload["data"].get("previous_attributes") or {}
    previous = dict(previous) if isinstance(previous, Mapping) else {}
    object_type = str(obj.get("object") or "")
    object_id = str(obj.get("id") or "")
    customer_id = None if object_type in CATALOG_OBJECT_TYPES else stripe_customer_id(obj)
    kind = STRIPE_EVENT_KINDS.get(event_type, EventKind.UNKNOWN)
    if customer_id:
        ordering_key = f"customer:{customer_id}"
    elif object_type in CATALOG_OBJECT_TYPES:
        ordering_key = CATALOG_KEY
    else:
        ordering_key = f"{object_type}:{object_id}"
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
    "checkout.session.completed": EventKind.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": EventKind.CHECKOUT_PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": EventKind.CHECKOUT_PAYMENT_FAILED,
    "checkout.session.expired": EventKind.CHECKOUT_EXPIRED,
}

#: Stripe's field names in ``previous_attributes`` -> the neutral types' names.
_NEUTRAL_FIELDS = {"tax_exempt": "tax_exemption"}


def stripe_event_kind(event_type: str) -> EventKind:
    return STRIPE_EVENT_KINDS.get(event_type, EventKind.UNKNOWN)


# --- Stripe objects in events -> provider-neutral types -------------------------------------
def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None  # a time no calendar holds


def _int(value: Any, default: int) -> int:
    """A count or amount; ``default`` for a value of another type (never raises)."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return int(value) if isinstance(value, str | float) else default
    except (ValueError, OverflowError):
        return default


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, Mapping) else {}


def stripe_customer_state(obj: Mapping[str, Any]) -> ProviderCustomer:
    address = obj.get("address")
    return ProviderCustomer(
        id=_text(obj.get("id")),
        email=_text(obj.get("email")),
        name=_text(obj.get("name")),
        tax_exemption=_text(obj.get("tax_exempt")) or "none",
        address=Address(
            line1=_text(address.get("line1")),
            line2=_text(address.get("line2")),
            city=_text(address.get("city")),
            postal_code=_text(address.get("postal_code")),
            state=_text(address.get("state")),
            country=_text(address.get("country")),
        )
        if isinstance(address, Mapping)
        else None,
        metadata=_metadata(obj),
        created=_when(obj.get("created")),
        tax_ids=_expanded_tax_ids(obj.get("tax_ids")),
    )


def _expanded_tax_ids(value: Any) -> tuple[tuple[str, str], ...] | None:
    """The ``(type, value)`` pairs of an expanded ``tax_ids`` list; ``None`` when not expanded."""
    if not isinstance(value, Mapping) or not isinstance(value.get("data"), list):
        return None
    return tuple(
        (_text(t.get("type")), _text(t.get("value")))
        for t in value["data"]
        if isinstance(t, Mapping)
    )


def stripe_subscription_state(obj: Mapping[str, Any]) -> ProviderSubscription:
    """The subscription's first item carries its price, quantity and (in current API versions)
    its period; older API versions kept the period on the subscription itself."""
    items = obj.get("items")
    rows = items.get("data") if isinstance(items, Mapping) else None
    first = rows[0] if isinstance(rows, list) and rows else None
    item: Mapping[str, Any] = first if isinstance(first, Mapping) else {}
    price = item.get("price") or item.get("plan")
    period_start = item.get("current_period_start", obj.get("current_period_start"))
    period_end = item.get("current_period_end", obj.get("current_period_end"))
    return ProviderSubscription(
        id=_text(obj.get("id")),
        customer_id=_id_of(obj.get("customer")) or "",
        status=_text(obj.get("status")),
        price_id=_id_of(price) or "",
        quantity=_int(item.get("quantity"), 1) or 1,
        item_id=_text(item.get("id")),
        current_period_start=_when(period_start),
        current_period_end=_when(period_end),
        trial_end=_when(obj.get("trial_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=_when(obj.get("canceled_at")),
        ended_at=_when(obj.get("ended_at")),
        metadata=_metadata(obj),
    )


def stripe_invoice_state(obj: Mapping[str, Any]) -> ProviderInvoice:
    """An invoice; its subscription moved under ``parent.subscription_details`` in 2025."""
    subscription = _id_of(obj.get("subscription"))
    parent = obj.get("parent")
    if not subscription and isinstance(parent, Mapping):
        details = parent.get("subscription_details")
        if isinstance(details, Mapping):
            subscription = _id_of(details.get("subscription"))
    return ProviderInvoice(
        id=_text(obj.get("id")),
        customer_id=_id_of(obj.get("customer")) or "",
        subscription_id=subscription,
        status=_text(obj.get("status")),
        amount_due=_int(obj.get("amount_due"), 0),
        amount_paid=_int(obj.get("amount_paid"), 0),
        currency=_text(obj.get("currency")),
        hosted_invoice_url=_text(obj.get("hosted_invoice_url")) or None,
        invoice_pdf=_text(obj.get("invoice_pdf")) or None,
        created=_when(obj.get("created")),
    )


def stripe_checkout_state(obj: Mapping[str, Any]) -> CheckoutSession:
    """The session, with the name the customer gave (``customer_details.name``)."""
    details = obj.get("customer_details")
    details = details if isinstance(details, Mapping) else {}
    email = _text(details.get("email")) or _text(obj.get("customer_email"))
    session = CheckoutSession(
        id=_text(obj.get("id")),
        url=_text(obj.get("url")),
        mode=_text(obj.get("mode")),
        status=_text(obj.get("status")),
        payment_status=_text(obj.get("payment_status")),
        customer_id=_id_of(obj.get("customer")),
        customer_email=email or None,
        subscription_id=_id_of(obj.get("subscription")),
        client_reference_id=_text(obj.get("client_reference_id")) or None,
        metadata=_metadata(obj),
        customer_name=_text(details.get("name")) or _text(obj.get("customer_name")),
    )
    return session


def stripe_tax_id_state(obj: Mapping[str, Any]) -> ProviderTaxId:
    verification = obj.get("verification")
    status = verification.get("status") if isinstance(verification, Mapping) else None
    return ProviderTaxId(
        id=_text(obj.get("id")),
        customer_id=stripe_customer_id(obj) or "",
        type=_text(obj.get("type")),
        value=_text(obj.get("value")),
        verification_status=_text(status) or "unavailable",
    )


def stripe_product_state(obj: Mapping[str, Any]) -> ProviderProduct:
    return ProviderProduct(
        id=_text(obj.get("id")),
        name=_text(obj.get("name")),
        description=_text(obj.get("description")),
        active=bool(obj.get("active", True)) and not obj.get("deleted"),
        metadata=_metadata(obj),
    )


def stripe_price_state(obj: Mapping[str, Any]) -> ProviderPrice:
    recurring = obj.get("recurring")
    recurring = recurring if isinstance(recurring, Mapping) else {}
    amount = obj.get("unit_amount", obj.get("amount"))
    return ProviderPrice(
        id=_text(obj.get("id")),
        product_id=_id_of(obj.get("product")) or "",
        amount=_int(amount, 0),
        currency=_text(obj.get("currency")),
        interval=_text(recurring.get("interval")) or _text(obj.get("interval")) or None,
        interval_count=_int(recurring.get("interval_count") or obj.get("interval_count"), 1) or 1,
        active=bool(obj.get("active", True)) and not obj.get("deleted"),
        nickname=_text(obj.get("nickname")),
        metadata=_metadata(obj),
    )


def stripe_event_object(object_type: str, obj: Mapping[str, Any]) -> Any:
    """The neutral type of a Stripe event's object (``None`` for types we do not read)."""
    readers: dict[str, Any] = {
        "customer": stripe_customer_state,
        "subscription": stripe_subscription_state,
        "invoice": stripe_invoice_state,
        "checkout.session": stripe_checkout_state,
        "tax_id": stripe_tax_id_state,
        "product": stripe_product_state,
        "price": stripe_price_state,
        "plan": stripe_price_state,
    }
    reader = readers.get(object_type)
    return reader(obj) if reader else None
