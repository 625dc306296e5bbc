"""Stripe's money operations (refunds, off-session charges, coupons and promotion codes) as a
part of :class:`~django_payments_sync.backends.stripe.StripeBackend`, and their objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import stripe
from stripe.params import PaymentIntentCreateParams, RefundCreateParams

from django_payments_sync.backends.base import BaseBackend
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
    CouponData,
    MeterData,
    MeterEventData,
    PaymentData,
    PromotionCodeData,
    ProviderCoupon,
    ProviderMeter,
    ProviderPayment,
    ProviderPromotionCode,
    ProviderRefund,
    ProviderSubscription,
    RefundData,
)
from django_payments_sync.exceptions import PermanentProviderError

_Reason = Literal["duplicate", "fraudulent", "requested_by_customer"]
_Formula = Literal["count", "last", "sum"]


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


class StripeMoney(BaseBackend):
    """Refunds, off-session charges, coupons and promotion codes over ``self.client``."""

    client: stripe.StripeClient

    def create_refund(self, data: RefundData, *, idempotency_key: str) -> ProviderRefund:
        return create_stripe_refund(self.client, data, idempotency_key)

    def create_payment(self, data: PaymentData, *, idempotency_key: str) -> ProviderPayment:
        return create_stripe_payment(self.client, data, idempotency_key)

    def create_coupon(self, data: CouponData, *, idempotency_key: str) -> ProviderCoupon:
        from django_payments_sync.backends.stripe.coupons import (
            coupon_create_params,
            stripe_coupon_state,
        )

        params = coupon_create_params(data, convert.metadata(data.local_id, data.metadata))
        with convert.translated_errors():
            obj = self.client.v1.coupons.create(params, {"idempotency_key": idempotency_key})
        return stripe_coupon_state(convert.as_dict(obj))

    def update_coupon(self, coupon_id: str, data: CouponData) -> ProviderCoupon:
        from django_payments_sync.backends.stripe.coupons import stripe_coupon_state

        metadata = convert.metadata(data.local_id, data.metadata)
        with convert.translated_errors():
            obj = self.client.v1.coupons.update(
                coupon_id, {"name": data.name, "metadata": metadata}
            )
        return stripe_coupon_state(convert.as_dict(obj))

    def delete_coupon(self, coupon_id: str) -> None:
        from django_payments_sync.exceptions import ObjectNotFound

        try:
            with convert.translated_errors():
                self.client.v1.coupons.delete(coupon_id)
        except ObjectNotFound:
            pass  # deleted already: what was asked for

    def create_promotion_code(
        self, data: PromotionCodeData, *, idempotency_key: str
    ) -> ProviderPromotionCode:
        from django_payments_sync.backends.stripe.coupons import (
            promotion_code_create_params,
            stripe_promotion_code_state,
        )

        params = promotion_code_create_params(data, convert.metadata(data.local_id, data.metadata))
        with convert.translated_errors():
            obj = self.client.v1.promotion_codes.create(
                params, {"idempotency_key": idempotency_key}
            )
        return stripe_promotion_code_state(convert.as_dict(obj))

    def update_promotion_code(
        self, promotion_code_id: str, *, active: bool, metadata: dict[str, str] | None = None
    ) -> ProviderPromotionCode:
        from django_payments_sync.backends.stripe.coupons import stripe_promotion_code_state

        params: stripe.params.PromotionCodeUpdateParams = {"active": active}
        if metadata is not None:
            params["metadata"] = dict(metadata)
        with convert.translated_errors():
            obj = self.client.v1.promotion_codes.update(promotion_code_id, params)
        return stripe_promotion_code_state(convert.as_dict(obj))

    def apply_promotion_code(
        self, subscription_id: str, promotion_code_id: str
    ) -> ProviderSubscription:
        from django_payments_sync.backends.stripe.objects import stripe_subscription_state

        with convert.translated_errors():
            obj = self.client.v1.subscriptions.update(
                subscription_id, {"discounts": [{"promotion_code": promotion_code_id}]}
            )
        return stripe_subscription_state(convert.as_dict(obj))

    # --- usage meters ---------------------------------------------------------------------
    def create_meter(self, data: MeterData, *, idempotency_key: str) -> ProviderMeter:
        with convert.translated_errors():
            obj = self.client.v1.billing.meters.create(
                {
                    "display_name": data.display_name,
                    "event_name": data.event_name,
                    "default_aggregation": {"formula": cast(_Formula, data.aggregation)},
                },
                {"idempotency_key": idempotency_key},
            )
        return ProviderMeter(id=obj.id, event_name=obj.event_name, active=obj.status == "active")

    def deactivate_meter(self, meter_id: str) -> None:
        with convert.translated_errors():
            self.client.v1.billing.meters.deactivate(meter_id)

    def send_meter_event(self, data: MeterEventData) -> None:
        try:
            with convert.translated_errors():
                self.client.v1.billing.meter_events.create(
                    {
                        "event_name": data.event_name,
                        "payload": {
                            "stripe_customer_id": data.customer_id,
                            "value": str(data.value),
                        },
                        "timestamp": int(data.timestamp.timestamp()),
                        "identifier": data.identifier,
                    }
                )
        except PermanentProviderError as exc:
            if exc.code != "resource_already_exists":
                raise
            # Counted already (an earlier send whose answer was lost): done.
