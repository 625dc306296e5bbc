"""Signing webhook payloads and building Stripe-shaped events, for tests of webhook handling."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import stripe


def _random_id(prefix: str, length: int = 24) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def sign_stripe_payload(
    payload: bytes | str | Mapping[str, Any], secret: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Stripe would send for ``payload``, signed with ``secret``.

    ``payload`` may be an event dict (serialised as Stripe does) or the exact body. The
    signature comes from the SDK's own ``generate_signature_header``; ``timestamp`` defaults
    to now (pass an old one to test the tolerance).
    """
    if isinstance(payload, Mapping):
        body = json.dumps(payload, indent=2).encode()
    elif isinstance(payload, str):
        body = payload.encode()
    else:
        body = bytes(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8"), secret, timestamp=int(time.time()) if timestamp is None else timestamp
    )
    return body, {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header}


def stripe_event(
    event_type: str,
    obj: Mapping[str, Any],
    *,
    created: int | None = None,
    event_id: str | None = None,
    previous_attributes: Mapping[str, Any] | None = None,
    livemode: bool = False,
) -> dict[str, Any]:
    """A Stripe event (API version of the installed SDK) carrying a snapshot of ``obj``."""
    from stripe._api_version import _ApiVersion

    data: dict[str, Any] = {"object": dict(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = dict(previous_attributes)
    return {
        "id": event_id or _random_id("evt_"),
        "object": "event",
        "api_version": str(_ApiVersion.CURRENT),
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def stripe_customer(
    customer_id: str,
    *,
    email: str,
    name: str = "",
    local_id: str | None = None,
    tax_exempt: str = "none",
    country: str | None = None,
    created: int = 1_700_000_000,
    metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Stripe customer; ``local_id`` is the ``payments_sync_id`` our backend stores."""
    meta = dict(metadata or {})
    if local_id is not None:
        meta["payments_sync_id"] = local_id
    return {
        "id": customer_id,
        "object": "customer",
        "address": {
            "city": None,
            "country": country,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": email,
        "invoice_prefix": customer_id[-8:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": meta,
        "name": name or None,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": tax_exempt,
        "test_clock": None,
    }


def stripe_price(
    price_id: str,
    *,
    product: str,
    unit_amount: int = 1500,
    currency: str = "eur",
    interval: str | None = "month",
    active: bool = True,
    created: int = 1_700_000_000,
) -> dict[str, Any]:
    recurring = (
        {
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
        if interval
        else None
    )
    return {
        "id": price_id,
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if interval else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def stripe_product(
    product_id: str, *, name: str = "Plan", active: bool = True, created: int = 1_700_000_000
) -> dict[str, Any]:
    return {
        "id": product_id,
        "object": "product",
        "active": active,
        "created": created,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def stripe_subscription(
    subscription_id: str,
    *,
    customer: str,
    price: str,
    product: str = "prod_test",
    status: str = "active",
    quantity: int = 1,
    current_period_start: int = 1_700_000_000,
    current_period_end: int = 1_702_592_000,
    trial_end: int | None = None,
    cancel_at_period_end: bool = False,
    canceled_at: int | None = None,
    ended_at: int | None = None,
    created: int = 1_700_000_000,
    metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Stripe subscription of the current API: its period lives on the items."""
    item = {
        "id": "si_" + subscription_id.removeprefix("sub_"),
        "object": "subscription_item",
        "created": created,
        "current_period_end": current_period_end,
        "current_period_start": current_period_start,
        "discounts": [],
        "metadata": {},
        "price": stripe_price(price, product=product),
        "quantity": quantity,
        "subscription": subscription_id,
        "tax_rates": [],
    }
    return {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": current_period_start,
        "cancel_at": current_period_end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": canceled_at,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": "eur",
        "customer": customer,
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "ended_at": ended_at,
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "pause_collection": None,
        "start_date": created,
        "status": status,
        "trial_end": trial_end,
        "trial_start": created if trial_end else None,
    }


def stripe_invoice(
    invoice_id: str,
    *,
    customer: str,
    subscription: str | None,
    status: str = "paid",
    amount_due: int = 1500,
    amount_paid: int | None = None,
    currency: str = "eur",
    billing_reason: str = "subscription_cycle",
    created: int = 1_700_000_000,
) -> dict[str, Any]:
    """A Stripe invoice of the current API: its subscription lives under ``parent``."""
    paid = amount_due if amount_paid is None and status == "paid" else (amount_paid or 0)
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount_due,
        "amount_paid": paid,
        "amount_remaining": amount_due - paid,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_email": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
        "last_finalization_error": None,
        "livemode": False,
        "metadata": {},
        "parent": (
            {
                "quote_details": None,
                "subscription_details": {"metadata": {}, "subscription": subscription},
                "type": "subscription_details",
            }
            if subscription
            else None
        ),
        "period_end": created,
        "period_start": created,
        "status": status,
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": created if status == "paid" else None,
            "voided_at": None,
        },
        "total": amount_due,
    }


def stripe_checkout_session(
    session_id: str,
    *,
    customer: str | None,
    email: str,
    name: str = "",
    mode: str = "subscription",
    subscription: str | None = None,
    status: str = "complete",
    payment_status: str = "paid",
    client_reference_id: str | None = None,
    amount_total: int = 1500,
    currency: str = "eur",
    metadata: Mapping[str, str] | None = None,
    created: int = 1_700_000_000,
) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "cancel_url": "https://example.com/cancel",
        "client_reference_id": client_reference_id,
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_creation": "always" if customer else None,
        "customer_details": {
            "address": None,
            "email": email,
            "name": name or None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": email,
        "expires_at": created + 86_400,
        "invoice": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "mode": mode,
        "payment_intent": None,
        "payment_status": payment_status,
        "status": status,
        "subscription": subscription,
        "success_url": "https://example.com/success",
        "url": None,
    }


def stripe_tax_id(
    tax_id: str,
    *,
    customer: str,
    value: str,
    verification_status: str = "pending",
    created: int = 1_700_000_000,
) -> dict[str, Any]:
    return {
        "id": tax_id,
        "object": "tax_id",
        "country": value[:2],
        "created": created,
        "customer": customer,
        "livemode": False,
        "owner": {"customer": customer, "type": "customer"},
        "type": "eu_vat",
        "value": value,
        "verification": {
            "status": verification_status,
            "verified_address": None,
            "verified_name": None,
        },
    }


def new_stripe_id(prefix: str) -> str:
    """A fresh random id with Stripe's ``prefix`` (``"cus_"``, ``"sub_"``, ...)."""
    return _random_id(prefix, 14 if prefix == "cus_" else 24)
