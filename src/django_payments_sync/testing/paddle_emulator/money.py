"""Transaction items and totals: Paddle, the merchant of record, adds the tax itself."""

from __future__ import annotations

import copy
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

# Standard VAT/GST rates the emulator charges by the buyer's country (a sample, not advice).
TAX_RATES = {
    "AT": "0.2",
    "BE": "0.21",
    "DE": "0.19",
    "DK": "0.25",
    "ES": "0.21",
    "FI": "0.255",
    "FR": "0.2",
    "GB": "0.2",
    "IE": "0.23",
    "IT": "0.22",
    "NL": "0.21",
    "PL": "0.23",
    "SE": "0.25",
    "AU": "0.1",
}
EU = {"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "SE"}

CARD_OK = {"type": "visa", "last4": "4242", "expiry_month": 12, "expiry_year": 2030}
CARD_DECLINED = {"type": "visa", "last4": "0002", "expiry_month": 12, "expiry_year": 2030}


def tax_rate(store: Store, txn: dict[str, Any]) -> str:
    """The rate for the buyer's country; 0 for an EU business with a tax id (reverse charge)."""
    address = store.find(txn.get("address_id") or "")
    country = address["country_code"] if address else None
    business = store.find(txn.get("business_id") or "")
    if country in EU and business is not None and business.get("tax_identifier"):
        return "0"
    return TAX_RATES.get(country or "", "0")


def unit_amount(price: dict[str, Any], country: str | None, currency: str) -> int:
    for override in price["unit_price_overrides"]:
        money = override["unit_price"]
        if country in override["country_codes"] and money["currency_code"] == currency:
            return int(money["amount"])
    return int(price["unit_price"]["amount"])


def item_of(store: Store, price: dict[str, Any], quantity: int) -> dict[str, Any]:
    """A transaction item: a snapshot of the price, the quantity, no proration."""
    return {"price": copy.deepcopy(price), "quantity": quantity, "proration": None}


def _split(total_excl: int, rate: str) -> tuple[int, int]:
    # Prices are tax-exclusive (account_setting): tax is added on top, rounded half up.
    tax = int((total_excl * float(rate)) + 0.5)
    return total_excl, tax


def fill_details(store: Store, txn: dict[str, Any], *, factor: float = 1.0) -> None:
    """Compute `details` (line items, tax rates, totals) from `items` and the buyer's country."""
    address = store.find(txn.get("address_id") or "")
    country = address["country_code"] if address else None
    currency = txn["currency_code"]
    rate = tax_rate(store, txn)
    lines = []
    subtotal = tax = taken = 0
    discount = store.find(txn.get("discount_id") or "")
    off = discount_shares(discount, txn, country) if discount else [0] * len(txn["items"])
    for item, item_off in zip(txn["items"], off, strict=True):
        price = item["price"]
        quantity = item["quantity"]
        unit = unit_amount(price, country, currency)
        trial = price.get("trial_period")
        if trial and txn.get("origin") == "api":
            # The transaction that opens a subscription charges the trial's price (free, or a
            # paid trial's unit_price); renewals charge the price itself.
            unit = int((trial.get("unit_price") or {}).get("amount") or 0)
        share = item["proration"]["rate"] if item.get("proration") else "1"
        line_sub = int(unit * quantity * float(share) * factor + 0.5)
        item_off = min(item_off, line_sub)
        # Tax on what the discount leaves.
        _, line_tax = _split(line_sub - item_off, rate)
        unit_sub, unit_tax = _split(unit, rate)
        product = store.find(price["product_id"])
        lines.append(
            {
                "id": store.new_id("txnitm"),
                "price_id": price["id"],
                "quantity": quantity,
                "proration": item.get("proration"),
                "tax_rate": rate,
                "unit_totals": _totals(unit_sub, unit_tax),
                "totals": _totals(line_sub, line_tax, item_off),
                "product": copy.deepcopy(product),
            }
        )
        subtotal += line_sub
        tax += line_tax
        taken += item_off
    total = subtotal - taken + tax
    txn["details"] = {
        "tax_rates_used": [{"tax_rate": rate, "totals": _totals(subtotal, tax, taken)}]
        if lines
        else [],
        "totals": {
            "subtotal": str(subtotal),
            "tax": str(tax),
            "discount": str(taken),
            "total": str(total),
            "grand_total": str(total),
            "grand_total_tax": str(tax),
            "fee": None,
            "credit": "0",
            "credit_to_balance": "0",
            "balance": str(total),
            "earnings": None,
            "currency_code": currency,
        },
        "adjusted_totals": {
            "subtotal": str(subtotal),
            "tax": str(tax),
            "total": str(total),
            "grand_total": str(total),
            "grand_total_tax": str(tax),
            "fee": "0",
            "earnings": "0",
            "currency_code": currency,
            "retained_fee": "0",
        },
        "payout_totals": None,
        "adjusted_payout_totals": None,
        "line_items": lines,
    }


def _totals(subtotal: int, tax: int, discount: int = 0) -> dict[str, str]:
    return {
        "subtotal": str(subtotal),
        "discount": str(discount),
        "tax": str(tax),
        "total": str(subtotal - discount + tax),
    }


def discount_shares(
    discount: dict[str, Any], txn: dict[str, Any], country: str | None
) -> list[int]:
    """What ``discount`` takes off each of the transaction's items (before tax): a percentage
    of each, a flat amount shared in proportion (in its currency only), or per seat; only the
    products or prices of its ``restrict_to``."""
    restrict = set(discount.get("restrict_to") or ())
    amounts = []
    for item in txn["items"]:
        price = item["price"]
        wanted = not restrict or {price["id"], price["product_id"]} & restrict
        share = item["proration"]["rate"] if item.get("proration") else "1"
        unit = unit_amount(price, country, txn["currency_code"])
        amounts.append(int(unit * item["quantity"] * float(share) + 0.5) if wanted else 0)
    kind = discount["type"]
    if kind == "percentage":
        rate = Decimal(discount["amount"]) / 100
        return [int((Decimal(a) * rate).quantize(Decimal("1"), ROUND_HALF_UP)) for a in amounts]
    if discount.get("currency_code") != txn["currency_code"]:
        return [0 for _ in amounts]
    if kind == "flat_per_seat":
        return [
            min(int(discount["amount"]) * item["quantity"], a) if a else 0
            for item, a in zip(txn["items"], amounts, strict=True)
        ]
    base = sum(amounts)
    off = min(int(discount["amount"]), base)
    if not base:
        return [0 for _ in amounts]
    shares = [off * a // base for a in amounts]
    last = max(i for i, a in enumerate(amounts) if a)
    shares[last] += off - sum(shares)
    return shares


def discount_applies(store: Store, sub: dict[str, Any]) -> str | None:
    """The id of the subscription's discount when its next transaction takes it (counted: a
    non-recurring discount once, a recurring one ``maximum_recurring_intervals`` times or
    for ever), else None."""
    current = sub.get("discount")
    discount = store.find(current["id"]) if current else None
    if discount is None:
        return None
    allowed = (discount.get("maximum_recurring_intervals") or None) if discount["recur"] else 1
    used = int(store.meta_for(sub["id"]).get("discounted", 0))
    return discount["id"] if allowed is None or used < allowed else None


def subscription_discount(discount: dict[str, Any], starts_at: str) -> dict[str, Any]:
    """A subscription's ``discount``: which one, recurring or one-off, since when."""
    kind = "recurring" if discount["recur"] else "one-off"
    return {"id": discount["id"], "type": kind, "starts_at": starts_at, "ends_at": None}


def use_discount(store: Store, sub: dict[str, Any]) -> None:
    meta = store.meta_for(sub["id"])
    meta["discounted"] = int(meta.get("discounted", 0)) + 1
    discount = store.find((sub.get("discount") or {}).get("id") or "")
    if discount is not None:
        discount["times_used"] += 1


def payment_attempt(store: Store, txn: dict[str, Any], card: dict[str, Any]) -> dict[str, Any]:
    """One payment attempt with `card`: captured, or declined for the declining test card."""
    declined = card["last4"] == CARD_DECLINED["last4"]
    now = store.now()
    return {
        "payment_attempt_id": str(uuid.UUID(int=store.rng.getrandbits(128))),
        "payment_method_id": store.meta_for(txn["customer_id"] or "").get("payment_method_id"),
        "stored_payment_method_id": str(uuid.UUID(int=store.rng.getrandbits(128))),
        "amount": txn["details"]["totals"]["grand_total"],
        "status": "error" if declined else "captured",
        "error_code": "declined" if declined else None,
        "method_details": {
            "type": "card",
            "card": {**card, "cardholder_name": "Test Buyer"},
            "south_korea_local_card": None,
            "underlying_details": None,
        },
        "created_at": now,
        "captured_at": None if declined else now,
    }


def preview_details(store: Store, owner: dict[str, Any], items: list[dict[str, Any]]) -> Any:
    """A preview's `details` (no line item ids, totals with an exchange rate), as Paddle shows
    a subscription's `recurring_transaction_details` and `next_transaction`."""
    scratch = {
        "address_id": owner.get("address_id"),
        "business_id": owner.get("business_id"),
        "currency_code": owner["currency_code"],
        "items": items,
        # A subscription's next transaction takes its discount while it lasts.
        "discount_id": discount_applies(store, owner) if "billing_cycle" in owner else None,
    }
    fill_details(store, scratch)
    details = scratch["details"]
    totals = {**details["totals"], "exchange_rate": "1"}
    lines = []
    for line in details["line_items"]:
        line = {k: val for k, val in line.items() if k != "id"}
        lines.append({"item_id": None, **line})
    return {"tax_rates_used": details["tax_rates_used"], "totals": totals, "line_items": lines}
