"""Stripe's refunds and charges: the request of a refund and their objects as neutral types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import stripe
from stripe.params import RefundCreateParams

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
