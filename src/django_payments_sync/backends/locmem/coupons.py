"""The in-memory backend: coupons, promotion codes, and the discounts they give."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

from django_payments_sync.backends.locmem.state import LocmemState, _period
from django_payments_sync.backends.types import (
    CouponData,
    PromotionCodeData,
    ProviderCoupon,
    ProviderPrice,
    ProviderPromotionCode,
    ProviderSubscription,
)
from django_payments_sync.exceptions import ObjectNotFound, PermanentProviderError


class LocmemCoupons(LocmemState):
    """Coupons and promotion codes (their terms kept as sent), and subscriptions' discounts."""

    def reset(self) -> None:
        super().reset()
        self.coupons: dict[str, ProviderCoupon] = {}
        self.coupon_terms: dict[str, CouponData] = {}
        self.promotion_codes: dict[str, ProviderPromotionCode] = {}
        #: subscription id -> the promotion code applied to it
        self.subscription_discounts: dict[str, str] = {}
        #: subscription id -> how many invoices its discount has discounted
        self.discounted_invoices: dict[str, int] = {}

    def create_coupon(self, data: CouponData, *, idempotency_key: str) -> ProviderCoupon:
        self._record("create_coupon", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_coupon", data)
        if earlier is not None:
            return earlier
        if (data.percent_off is None) == (data.amount_off is None):
            raise PermanentProviderError("Give percent_off or amount_off.", param="percent_off")
        coupon = ProviderCoupon(
            id=self._new_id("coupon"),
            name=data.name,
            valid=True,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.coupons[coupon.id] = coupon
        self.coupon_terms[coupon.id] = data
        self._remember(idempotency_key, "create_coupon", data, coupon)
        return coupon

    def update_coupon(self, coupon_id: str, data: CouponData) -> ProviderCoupon:
        self._record("update_coupon", (coupon_id, data), {})
        coupon = self._get(self.coupons, coupon_id, "coupon")
        coupon = dataclasses.replace(
            coupon, name=data.name, metadata=self._with_identity(data.local_id, data.metadata)
        )
        self.coupons[coupon_id] = coupon
        return coupon

    def delete_coupon(self, coupon_id: str) -> None:
        self._record("delete_coupon", (coupon_id,), {})
        self.coupons.pop(coupon_id, None)

    def create_promotion_code(
        self, data: PromotionCodeData, *, idempotency_key: str
    ) -> ProviderPromotionCode:
        self._record("create_promotion_code", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_promotion_code", data)
        if earlier is not None:
            return earlier
        self._get(self.coupons, data.coupon_id, "coupon")
        taken = [p for p in self.promotion_codes.values() if p.active]
        if any(p.code.lower() == data.code.lower() for p in taken):
            raise PermanentProviderError(
                f"An active promotion code {data.code!r} exists.", code="resource_already_exists"
            )
        code = ProviderPromotionCode(
            id=self._new_id("promo"),
            code=data.code,
            coupon_id=data.coupon_id,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.promotion_codes[code.id] = code
        self._remember(idempotency_key, "create_promotion_code", data, code)
        return code

    def update_promotion_code(
        self, promotion_code_id: str, *, active: bool, metadata: dict[str, str] | None = None
    ) -> ProviderPromotionCode:
        self._record("update_promotion_code", (promotion_code_id,), {"active": active})
        code = self._get(self.promotion_codes, promotion_code_id, "promotion code")
        code = dataclasses.replace(code, active=active, metadata=metadata or code.metadata)
        self.promotion_codes[code.id] = code
        return code

    def apply_promotion_code(
        self, subscription_id: str, promotion_code_id: str
    ) -> ProviderSubscription:
        self._record("apply_promotion_code", (subscription_id, promotion_code_id), {})
        subscription = self._get(self.subscriptions, subscription_id, "subscription")
        code = self._get(self.promotion_codes, promotion_code_id, "promotion code")
        if not code.active or code.coupon_id not in self.coupons:
            raise ObjectNotFound(f"The promotion code {code.code} cannot be redeemed.")
        self.subscription_discounts[subscription_id] = promotion_code_id
        self.discounted_invoices[subscription_id] = 0
        return subscription

    def _discount(self, sub: ProviderSubscription, amount: int, *, use: bool) -> int:
        """As Stripe's: a percentage or an amount off (in the coupon's currency, on its
        products), for one invoice (``once``), the billing periods ``duration_in_months``
        covers (``repeating``) or every invoice (``forever``)."""
        code_id = self.subscription_discounts.get(sub.id)
        code = self.promotion_codes.get(code_id or "")
        terms = self.coupon_terms.get(code.coupon_id) if code is not None else None
        price = self.prices.get(sub.price_id)
        if terms is None or price is None or amount <= 0:
            return 0
        if terms.product_ids and price.product_id not in terms.product_ids:
            return 0
        if terms.amount_off is not None and terms.currency != price.currency:
            return 0
        allowed = _invoices_allowed(terms, price)
        done = self.discounted_invoices.get(sub.id, 0)
        if allowed is not None and done >= allowed:
            return 0
        if use:
            self.discounted_invoices[sub.id] = done + 1
        if terms.percent_off is not None:
            off = Decimal(amount) * Decimal(terms.percent_off) / 100
            return int(off.quantize(Decimal("1")))
        return min(terms.amount_off or 0, amount)


def _invoices_allowed(terms: CouponData, price: ProviderPrice) -> int | None:
    if terms.duration == "forever":
        return None
    if terms.duration != "repeating":
        return 1
    months = terms.duration_in_months or 1
    per_period = {"month": 1, "year": 12}.get(price.interval or "month")
    if per_period is None:  # days or weeks: as many periods as the months hold
        return max(1, math.ceil(months * 30 / _period(price).days))
    return max(1, math.ceil(months / (per_period * price.interval_count)))
