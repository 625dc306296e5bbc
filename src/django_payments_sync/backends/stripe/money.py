"""Stripe's refunds and charges: the request of a refund and their objects as neutral types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import stripe
from stripe.params import PaymentIntentCreateParams, RefundCreateParams

from django_payments_sync.backends.stripe import params as convert
from django_payments_sync.backends.stripe.objects import (
    _id_of,
    _int,
    _metadata,
    _text,
    from_timestamp,
    stripe_customer_id,
)
from django_payments_sync.backends.types import (
    REFUND_REASONS,
    PaymentData,
    ProviderPayment,
    ProviderRefund,
    RefundData,
)
from django_payments_sync.exceptions import PermanentProviderError

_Reason = Literal["duplicate", "fraudulent", "requested_by_customer"]


def refund_create_params(data: RefundData) -> RefundCreateParams:
    """A refund of a payment intent (the neutral payment id), of ``amount`` or all that is left."""
    if data.reason and data.reason not in REFUND_REASONS:
        raise PermanentProviderError(
            f"Unknown refund reason {data.reason!r}: one of {', '.join(REFUND_REASONS)}.",
            param="reason",
        )
    params: RefundCreateParams = {"payment_intent": data.payment_id}
    if data.payment_id.startswith("ch_"):
        params = {"charge": data.payment_id}
    if data.amount is not None:
        params["amount"] = data.amount
    if data.reason:
        params["reason"] = cast(_Reason, data.reason)
    if data.metadata:
        params["metadata"] = dict(data.metadata)
    return params


def create_stripe_refund(
    client: stripe.StripeClient, data: RefundData, idempotency_key: str
) -> ProviderRefund:
    with convert.translated_errors():
        obj = client.v1.refunds.create(
            refund_create_params(data), {"idempotency_key": idempotency_key}
        )
    return stripe_refund_state(convert.as_dict(obj))


def stripe_refund_state(obj: Mapping[str, Any]) -> ProviderRefund:
    """A refund; its payment is its payment intent (the charge's id without one)."""
    return ProviderRefund(
        id=_text(obj.get("id")),
        payment_id=_id_of(obj.get("payment_intent")) or _id_of(obj.get("charge")) or "",
        amount=_int(obj.get("amount"), 0),
        currency=_text(obj.get("currency")),
        status=_text(obj.get("status")),
        customer_id=stripe_customer_id(obj),
        reason=_text(obj.get("reason")),
        failure_reason=_text(obj.get("failure_reason")),
        metadata=_metadata(obj),
        created=from_timestamp(obj.get("created")),
    )


def stripe_charge_state(obj: Mapping[str, Any]) -> ProviderPayment:
    """A charge as the payment of its payment intent, with the refunds its payload lists."""
    listed = obj.get("refunds")
    rows = listed.get("data") if isinstance(listed, Mapping) else None
    refunds = tuple(stripe_refund_state(row) for row in rows or () if isinstance(row, Mapping))
    return ProviderPayment(
        id=_text(obj.get("id")),
        payment_id=_id_of(obj.get("payment_intent")) or _text(obj.get("id")),
        amount=_int(obj.get("amount"), 0),
        amount_refunded=_int(obj.get("amount_refunded"), 0),
        currency=_text(obj.get("currency")),
        refunded=bool(obj.get("refunded")),
        customer_id=stripe_customer_id(obj),
        refunds=refunds,
    )


def create_stripe_payment(
    client: stripe.StripeClient, data: PaymentData, idempotency_key: str
) -> ProviderPayment:
    """A payment intent confirmed off-session with the customer's default payment method."""
    with convert.translated_errors():
        customer = convert.as_dict(client.v1.customers.retrieve(data.customer_id))
    settings = customer.get("invoice_settings") or {}
    payment_method = _id_of(settings.get("default_payment_method"))
    if not payment_method:
        raise PermanentProviderError(
            "The customer has no saved default payment method to charge.",
            code="no_payment_method",
        )
    params: PaymentIntentCreateParams = {
        "amount": data.amount,
        "currency": data.currency,
        "customer": data.customer_id,
        "payment_method": payment_method,
        "confirm": True,
        "off_session": True,
        "metadata": dict(data.metadata),
    }
    if data.description:
        params["description"] = data.description
    with convert.translated_errors():
        obj = client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
    return stripe_payment_intent_state(convert.as_dict(obj))


#: Stripe's payment intent statuses -> the neutral payment's.
_INTENT_STATUSES = {
    "succeeded": "succeeded",
    "processing": "processing",
    "requires_action": "requires_action",
    "requires_confirmation": "requires_action",
    "requires_capture": "processing",
    "requires_payment_method": "failed",
    "canceled": "failed",
}


def stripe_payment_intent_state(obj: Mapping[str, Any]) -> ProviderPayment:
    """A payment intent as the neutral payment (its id is the payment's id)."""
    error = obj.get("last_payment_error")
    message = _text(error.get("message")) if isinstance(error, Mapping) else ""
    return ProviderPayment(
        id=_text(obj.get("id")),
        payment_id=_text(obj.get("id")),
        amount=_int(obj.get("amount"), 0),
        amount_refunded=0,
        currency=_text(obj.get("currency")),
        refunded=False,
        customer_id=stripe_customer_id(obj),
        status=_INTENT_STATUSES.get(_text(obj.get("status")), "processing"),
        failure_message=message,
        metadata=_metadata(obj),
    )
