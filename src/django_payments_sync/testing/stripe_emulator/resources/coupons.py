"""Coupons, promotion codes, and the discounts they give to checkout sessions and subscriptions.

A coupon's terms are immutable (only ``name`` and ``metadata`` change); deleting one stops new
redemptions. A promotion code names a coupon (``promotion.coupon``, the current API's shape);
``GET /v1/promotion_codes?code=`` finds one by what the customer typed. A checkout session with
``discounts[0][promotion_code]`` is discounted (``total_details.amount_discount``), as is a
subscription updated with one (its ``discounts``); each redemption counts (``times_redeemed``).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from ..errors import StripeError
from ..events import emit
from ..fixtures import template
from ..render import render
from ..store import Store, created_filter, paginate
from . import Call, apply_metadata, require, route


@route("POST", "/v1/coupons", "CouponCreateParams")
def create_coupon(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    has_percent, has_amount = "percent_off" in p, "amount_off" in p
    if has_percent == has_amount:
        raise StripeError(
            400, "You must specify either `percent_off` or `amount_off`.", param="percent_off"
        )
    if has_amount and "currency" not in p:
        raise StripeError(400, "You must specify `currency` with `amount_off`.", param="currency")
    percent = p.get("percent_off", 0)
    if has_percent and not 0 < float(percent) <= 100:
        raise StripeError(400, "percent_off must be between 0 and 100.", param="percent_off")
    duration = p.get("duration", "once")
    if (duration == "repeating") != ("duration_in_months" in p):
        raise StripeError(
            400,
            "duration_in_months is required with (and only with) duration=repeating.",
            param="duration_in_months",
        )
    coupon_id = p.get("id") or store.new_id("")[:8].upper()
    if store.find(coupon_id) is not None:
        raise StripeError(400, "Coupon already exists.", param="id", code="resource_already_exists")
    coupon = template("coupon")
    coupon.update(
        {
            "id": coupon_id,
            "amount_off": p.get("amount_off"),
            "created": store.now(),
            "currency": p.get("currency") if has_amount else None,
            "duration": duration,
            "duration_in_months": p.get("duration_in_months"),
            "max_redemptions": p.get("max_redemptions"),
            "metadata": {},
            "name": p.get("name"),
            "percent_off": float(percent) if has_percent else None,
            "redeem_by": p.get("redeem_by"),
            "times_redeemed": 0,
            "valid": True,
        }
    )
    products = (p.get("applies_to") or {}).get("products")
    for product_id in products or ():
        store.get("product", product_id)
    if products:
        coupon["applies_to"] = {"products": list(products)}
    apply_metadata(coupon, p.get("metadata"))
    store.add("coupon", coupon)
    emit(store, "coupon.created", coupon)
    return render(store, coupon, call.expand)


@route("GET", "/v1/coupons/{id}", "CouponRetrieveParams")
def retrieve_coupon(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("coupon", call.args[0]), call.expand)


@route("POST", "/v1/coupons/{id}", "CouponUpdateParams")
def update_coupon(call: Call) -> dict[str, Any]:
    coupon = call.store.get("coupon", call.args[0])
    before = copy.deepcopy(coupon)
    if "name" in call.params:
        coupon["name"] = call.params["name"] or None
    apply_metadata(coupon, call.params.get("metadata"))
    emit(call.store, "coupon.updated", coupon, before)
    return render(call.store, coupon, call.expand)


@route("DELETE", "/v1/coupons/{id}", None)
def delete_coupon(call: Call) -> dict[str, Any]:
    coupon = call.store.remove("coupon", call.args[0])
    coupon["valid"] = False
    emit(call.store, "coupon.deleted", coupon)
    return {"id": coupon["id"], "object": "coupon", "deleted": True}


@route("GET", "/v1/coupons", "CouponListParams")
def list_coupons(call: Call) -> dict[str, Any]:
    rows = created_filter(call.store.all("coupon"), call.params.get("created"))
    return render(call.store, paginate(rows, call.params, "/v1/coupons", call.store), call.expand)


@route("POST", "/v1/promotion_codes", "PromotionCodeCreateParams")
def create_promotion_code(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    promotion = require(p, "promotion")
    coupon = store.get("coupon", require(promotion, "coupon"))
    code = p.get("code") or store.new_id("")[:8].upper()
    if any(c["code"].lower() == code.lower() and c["active"] for c in store.all("promotion_code")):
        raise StripeError(
            400,
            "An active promotion code with `code` already exists.",
            param="code",
            code="resource_already_exists",
        )
    promo = template("promotion_code")
    promo.update(
        {
            "id": store.new_id("promo_"),
            "active": p.get("active", True),
            "code": code,
            "created": store.now(),
            "customer": p.get("customer"),
            "expires_at": p.get("expires_at"),
            "max_redemptions": p.get("max_redemptions"),
            "metadata": {},
            "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "times_redeemed": 0,
        }
    )
    apply_metadata(promo, p.get("metadata"))
    store.add("promotion_code", promo)
    emit(store, "promotion_code.created", promo)
    return render(store, promo, call.expand)


@route("GET", "/v1/promotion_codes/{id}", "PromotionCodeRetrieveParams")
def retrieve_promotion_code(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("promotion_code", call.args[0]), call.expand)


@route("POST", "/v1/promotion_codes/{id}", "PromotionCodeUpdateParams")
def update_promotion_code(call: Call) -> dict[str, Any]:
    promo = call.store.get("promotion_code", call.args[0])
    before = copy.deepcopy(promo)
    if "active" in call.params:
        promo["active"] = call.params["active"]
    apply_metadata(promo, call.params.get("metadata"))
    emit(call.store, "promotion_code.updated", promo, before)
    return render(call.store, promo, call.expand)


@route("GET", "/v1/promotion_codes", "PromotionCodeListParams")
def list_promotion_codes(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("promotion_code")
    if "code" in p:
        rows = [r for r in rows if r["code"].lower() == str(p["code"]).lower()]
    if "active" in p:
        rows = [r for r in rows if r["active"] == p["active"]]
    if "coupon" in p:
        rows = [r for r in rows if r["promotion"]["coupon"] == p["coupon"]]
    page = paginate(created_filter(rows, p.get("created")), p, "/v1/promotion_codes", call.store)
    return render(call.store, page, call.expand)


# --- redemption ---------------------------------------------------------------------------
def redeemable(store: Store, promotion_code_id: str, product_ids: list[str]) -> dict[str, Any]:
    """The coupon of a promotion code that may be redeemed now on these products, else 400."""
    promo = store.get("promotion_code", promotion_code_id)
    coupon = store.find(promo["promotion"]["coupon"])
    now = store.now()
    if coupon is None or not coupon.get("valid", True):
        raise StripeError(
            400, "This promotion code's coupon is no longer valid.", param="discounts"
        )
    if not promo["active"] or (promo["expires_at"] and now >= promo["expires_at"]):
        raise StripeError(
            400, f"This promotion code is inactive: {promo['code']}.", param="discounts"
        )
    if coupon.get("redeem_by") and now >= coupon["redeem_by"]:
        raise StripeError(
            400, f"This promotion code has expired: {promo['code']}.", param="discounts"
        )
    for limited in (promo, coupon):
        if limited["max_redemptions"] and limited["times_redeemed"] >= limited["max_redemptions"]:
            raise StripeError(
                400, f"This promotion code has been used up: {promo['code']}.", param="discounts"
            )
    allowed = (coupon.get("applies_to") or {}).get("products")
    if allowed and not set(product_ids) & set(allowed):
        raise StripeError(
            400,
            f"This promotion code cannot be applied to these items: {promo['code']}.",
            param="discounts",
        )
    return coupon


def discount_of(coupon: dict[str, Any], amount: int) -> int:
    if coupon.get("percent_off") is not None:
        return int(
            (Decimal(amount) * Decimal(str(coupon["percent_off"])) / 100).quantize(Decimal("1"))
        )
    return min(int(coupon.get("amount_off") or 0), amount)


def redeem(store: Store, promotion_code_id: str, **where: Any) -> dict[str, Any]:
    """Count one redemption and answer the discount object it makes."""
    promo = store.get("promotion_code", promotion_code_id)
    coupon = store.get("coupon", promo["promotion"]["coupon"])
    for counted, kind in ((promo, "promotion_code"), (coupon, "coupon")):
        before = copy.deepcopy(counted)
        counted["times_redeemed"] += 1
        emit(store, f"{kind}.updated", counted, before)
    discount = template("discount")
    end = None
    if coupon["duration"] == "repeating":
        from ..invoicing import add_interval

        end = add_interval(store.now(), "month", int(coupon["duration_in_months"]))
    discount.update(
        {
            "id": store.new_id("di_"),
            "checkout_session": where.get("checkout_session"),
            "customer": where.get("customer"),
            "end": end,
            "invoice": None,
            "invoice_item": None,
            "promotion_code": promo["id"],
            "start": store.now(),
            "subscription": where.get("subscription"),
            "subscription_item": None,
            "source": {"coupon": coupon["id"], "type": "coupon"},
        }
    )
    store.add("discount", discount)
    return discount
