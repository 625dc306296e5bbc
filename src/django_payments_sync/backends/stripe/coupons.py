"""Stripe's coupons and promotion codes: request params and their objects as neutral types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from stripe.params import CouponCreateParams, PromotionCodeCreateParams

from django_payments_sync.backends.stripe.objects import _id_of, _int, _metadata, _text
from django_payments_sync.backends.types import (
    CouponData,
    PromotionCodeData,
    ProviderCoupon,
    ProviderPromotionCode,
)

_Duration = Literal["forever", "once", "repeating"]


def coupon_create_params(data: CouponData, metadata: dict[str, str]) -> CouponCreateParams:
    params: CouponCreateParams = {
        "name": data.name,
        "duration": cast(_Duration, data.duration),
        "metadata": metadata,
    }
    if data.percent_off is not None:
        params["percent_off"] = float(data.percent_off)
    else:
        params["amount_off"] = int(data.amount_off or 0)
        params["currency"] = data.currency
    if data.duration_in_months:
        params["duration_in_months"] = data.duration_in_months
    if data.max_redemptions is not None:
        params["max_redemptions"] = data.max_redemptions
    if data.redeem_by is not None:
        params["redeem_by"] = int(data.redeem_by.timestamp())
    if data.product_ids:
        params["applies_to"] = {"products": list(data.product_ids)}
    return params


def promotion_code_create_params(
    data: PromotionCodeData, metadata: dict[str, str]
) -> PromotionCodeCreateParams:
    params: PromotionCodeCreateParams = {
        "promotion": {"type": "coupon", "coupon": data.coupon_id},
        "code": data.code,
        "active": data.active,
        "metadata": metadata,
    }
    if data.max_redemptions is not None:
        params["max_redemptions"] = data.max_redemptions
    if data.expires_at is not None:
        params["expires_at"] = int(data.expires_at.timestamp())
    return params


def stripe_coupon_state(obj: Mapping[str, Any]) -> ProviderCoupon:
    return ProviderCoupon(
        id=_text(obj.get("id")),
        name=_text(obj.get("name")),
        valid=bool(obj.get("valid", True)) and not obj.get("deleted"),
        times_redeemed=_int(obj.get("times_redeemed"), 0),
        metadata=_metadata(obj),
    )


def stripe_promotion_code_state(obj: Mapping[str, Any]) -> ProviderPromotionCode:
    promotion = obj.get("promotion")
    coupon = promotion.get("coupon") if isinstance(promotion, Mapping) else obj.get("coupon")
    return ProviderPromotionCode(
        id=_text(obj.get("id")),
        code=_text(obj.get("code")),
        coupon_id=_id_of(coupon) or "",
        active=bool(obj.get("active")),
        times_redeemed=_int(obj.get("times_redeemed"), 0),
        metadata=_metadata(obj),
    )
