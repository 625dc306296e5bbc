"""The discounts an invoice takes: the subscription's (else the customer's) coupons on its lines.

A percentage is taken off each discountable line (not prorations; only the coupon's products
when it has ``applies_to``); an amount off is shared between those lines in proportion, never
more than they add up to, and only in the coupon's currency. The lines keep their ``amount``
and say what was taken in ``discount_amounts``; the invoice's ``subtotal`` is before discounts,
``total_discount_amounts`` sums them per discount and ``total``/``amount_due`` are after.

How long a discount lasts is counted in the invoices it discounted: ``once`` one invoice,
``repeating`` as many billing periods as ``duration_in_months`` covers (two monthly invoices
for two months, one yearly invoice for twelve), ``forever`` all of them. A discount that has
done its invoices leaves the subscription's ``discounts``, as Stripe removes an ended one.
A preview counts without using anything up.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store


def _coupon_of(store: Store, discount: dict[str, Any]) -> dict[str, Any] | None:
    coupon_id = discount["source"]["coupon"]
    # A deleted coupon's discounts run on (Stripe stops new redemptions only).
    return store.find(coupon_id) or store.deleted.get(coupon_id)


def invoices_allowed(
    store: Store, coupon: dict[str, Any], subscription: dict[str, Any] | None
) -> int | None:
    """How many invoices a discount of ``coupon`` discounts (``None``: no end)."""
    duration = coupon["duration"]
    if duration == "forever":
        return None
    if duration == "once" or subscription is None:
        return 1
    from .billing import interval_of

    months = int(coupon["duration_in_months"] or 1)
    interval, count = interval_of(store, subscription)
    if interval in ("month", "year"):
        return max(1, math.ceil(months / (count * (12 if interval == "year" else 1))))
    from .invoicing import add_interval

    start = subscription["created"]
    span = add_interval(start, "month", months) - start
    period = add_interval(start, interval, count) - start
    return max(1, math.ceil(span / period))


def used(store: Store, discount_id: str) -> int:
    """How many invoices the discount has discounted so far."""
    return int(store.meta_for(discount_id).get("invoices", 0))


def active_discounts(
    store: Store, subscription: dict[str, Any] | None, customer: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(discount, coupon)`` for each discount the next invoice takes: the subscription's,
    else the customer's, without those that have done their invoices."""
    ids = [d if isinstance(d, str) else d["id"] for d in (subscription or {}).get("discounts", [])]
    if not ids and customer.get("discount"):
        ids = [customer["discount"]["id"]]
    found = []
    for discount_id in ids:
        discount = store.find(discount_id)
        coupon = _coupon_of(store, discount) if discount is not None else None
        if discount is None or coupon is None:
            continue
        allowed = invoices_allowed(store, coupon, subscription)
        if allowed is None or used(store, discount_id) < allowed:
            found.append((discount, coupon))
    return found


def _discountable(store: Store, line: dict[str, Any], coupon: dict[str, Any]) -> bool:
    if not line["discountable"] or line["amount"] <= 0:
        return False
    products = (coupon.get("applies_to") or {}).get("products")
    return not products or line["pricing"]["price_details"]["product"] in products


def _shares(coupon: dict[str, Any], amounts: list[int]) -> list[int]:
    """What the coupon takes off each of ``amounts``."""
    if coupon.get("percent_off") is not None:
        percent = Decimal(str(coupon["percent_off"]))
        return [int((Decimal(a) * percent / 100).quantize(Decimal("1"))) for a in amounts]
    base = sum(amounts)
    off = min(int(coupon.get("amount_off") or 0), base)
    if not base:
        return [0 for _ in amounts]
    shares = [off * a // base for a in amounts]
    shares[-1] += off - sum(shares)  # the rounding remainder on the last line
    return shares


def apply_discounts(
    store: Store,
    invoice: dict[str, Any],
    subscription: dict[str, Any] | None,
    customer: dict[str, Any],
) -> None:
    """Take the active discounts off the invoice's lines and set its totals after them."""
    lines = invoice["lines"]["data"]
    for line in lines:
        line["discount_amounts"] = []
    totals: list[dict[str, Any]] = []
    for discount, coupon in active_discounts(store, subscription, customer):
        if coupon.get("amount_off") is not None and coupon.get("currency") != invoice["currency"]:
            continue
        taken = [line for line in lines if _discountable(store, line, coupon)]
        if not taken:
            continue
        # Several discounts apply one after the other, each to what the previous left.
        left = [
            line["amount"] - sum(d["amount"] for d in line["discount_amounts"]) for line in taken
        ]
        shares = _shares(coupon, left)
        for line, share in zip(taken, shares, strict=True):
            line["discount_amounts"].append({"amount": share, "discount": discount["id"]})
        totals.append({"amount": sum(shares), "discount": discount["id"]})
    subtotal = sum(line["amount"] for line in lines)
    total = subtotal - sum(t["amount"] for t in totals)
    invoice.update(
        {
            "discounts": [t["discount"] for t in totals],
            "total_discount_amounts": totals,
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "total": total,
            "total_excluding_tax": total,
            "amount_due": total,
            "amount_remaining": total,
        }
    )


def use_discounts(
    store: Store, invoice: dict[str, Any], subscription: dict[str, Any] | None
) -> None:
    """Count the invoice against each discount it took; one that has done its invoices leaves
    the subscription."""
    for entry in invoice["total_discount_amounts"]:
        if entry["amount"] <= 0:
            continue
        discount_id = entry["discount"]
        meta = store.meta_for(discount_id)
        meta["invoices"] = meta.get("invoices", 0) + 1
        discount = store.find(discount_id)
        coupon = _coupon_of(store, discount) if discount is not None else None
        if subscription is None or coupon is None:
            continue
        allowed = invoices_allowed(store, coupon, subscription)
        if allowed is not None and meta["invoices"] >= allowed:
            subscription["discounts"] = [
                d for d in subscription.get("discounts", []) if d != discount_id
            ]
