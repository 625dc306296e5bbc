"""Invoices and payments with Stripe's test payment methods; shared constants and helpers."""

from __future__ import annotations

import calendar
import copy
import datetime
from typing import TYPE_CHECKING, Any

from .discounts import apply_discounts, use_discounts
from .events import emit
from .fixtures import template

if TYPE_CHECKING:
    from .store import Store

DAY = 86_400
# Stripe writes line descriptions as "1 <multiplication sign> Product".
TIMES = "\N{MULTIPLICATION SIGN}"
# Stripe's test payment methods: these names decline; every other payment method succeeds.
DECLINING = ("pm_card_chargeDeclined", "tok_chargeDeclined")


def declines(payment_method: str | None) -> bool:
    return payment_method is not None and payment_method.startswith(DECLINING)


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """`timestamp` moved on by `count` intervals; months clamp to the month's end, as Stripe's."""
    if interval == "day":
        return timestamp + count * DAY
    if interval == "week":
        return timestamp + count * 7 * DAY
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def payment_method_for(store: Store, sub: dict[str, Any] | None, customer_id: str) -> str | None:
    if sub is not None and sub.get("default_payment_method"):
        return str(sub["default_payment_method"])
    customer = store.find(customer_id)
    if customer is None:
        return None
    pm = customer["invoice_settings"].get("default_payment_method")
    return pm or store.meta_for(customer_id).get("payment_method")


# invoices


def new_invoice(
    store: Store,
    customer_id: str,
    *,
    subscription: dict[str, Any] | None,
    lines: list[dict[str, Any]],
    billing_reason: str,
    period: tuple[int, int],
    collection_method: str = "charge_automatically",
    invoice_id: str | None = None,
) -> dict[str, Any]:
    """A draft invoice with its lines; emits invoice.created."""
    invoice = build_invoice(
        store,
        customer_id,
        subscription=subscription,
        lines=lines,
        billing_reason=billing_reason,
        period=period,
        collection_method=collection_method,
        invoice_id=invoice_id or store.new_id("in_"),
    )
    store.add("invoice", invoice)
    use_discounts(store, invoice, subscription)
    emit(store, "invoice.created", invoice)
    return invoice


def build_invoice(
    store: Store,
    customer_id: str,
    *,
    subscription: dict[str, Any] | None,
    lines: list[dict[str, Any]],
    billing_reason: str,
    period: tuple[int, int],
    invoice_id: str,
    collection_method: str = "charge_automatically",
) -> dict[str, Any]:
    """A draft invoice object with its lines, neither stored nor announced (a preview's)."""
    customer = store.find(customer_id) or store.deleted[customer_id]
    now = store.now()
    total = sum(line["amount"] for line in lines)
    invoice = template("invoice")
    for line in lines:
        line["invoice"] = invoice_id
    invoice.update(
        {
            "id": invoice_id,
            "account_name": "Stripe emulator",
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_paid_off_stripe": 0,  # paid outside Stripe: never, here
            "amount_remaining": total,
            "auto_advance": True,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "status": None,
                "disabled_reason": None,
                "provider": None,
            },
            "billing_reason": billing_reason,
            "collection_method": collection_method,
            "created": now,
            "currency": lines[0]["currency"] if lines else customer.get("currency") or "usd",
            "customer": customer_id,
            "customer_address": copy.deepcopy(customer.get("address")),
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "customer_phone": customer.get("phone"),
            "customer_shipping": None,
            "customer_tax_exempt": customer.get("tax_exempt", "none"),
            "customer_tax_ids": [
                {"type": t["type"], "value": t["value"]}
                for t in store.where("tax_id", lambda t: t["customer"] == customer_id)
            ],
            "due_date": None,
            "effective_at": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "last_finalization_error": None,
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "next_payment_attempt": None,
            "number": None,
            "parent": _invoice_parent(subscription),
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_start": period[0],
            "period_end": period[1],
            "shipping_cost": None,
            "shipping_details": None,
            "status": "draft",
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "total": total,
            "total_excluding_tax": total,
            "total_taxes": [],
            "total_pretax_credit_amounts": [],
            "webhooks_delivered_at": None,
        }
    )
    apply_discounts(store, invoice, subscription, customer)
    return invoice


def _invoice_parent(subscription: dict[str, Any] | None) -> dict[str, Any] | None:
    if subscription is None:
        return None
    return {
        "quote_details": None,
        "subscription_details": {
            "metadata": copy.deepcopy(subscription["metadata"]),
            "subscription": subscription["id"],
        },
        "type": "subscription_details",
    }


def line_for(
    store: Store,
    price: dict[str, Any],
    quantity: int,
    period: tuple[int, int],
    *,
    subscription: dict[str, Any] | None = None,
    item_id: str | None = None,
    amount: int | None = None,
    proration: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    product = store.find(price["product"]) or store.deleted.get(price["product"]) or {}
    line = template("line_item")
    total = price["unit_amount"] * quantity if amount is None else amount
    line.update(
        {
            "id": store.new_id("il_"),
            "amount": total,
            "currency": price["currency"],
            "description": description or f"{quantity} {TIMES} {product.get('name', 'item')}",
            "discount_amounts": [],
            "discountable": not proration,
            "metadata": {},
            "period": {"start": period[0], "end": period[1]},
            "quantity": quantity,
            "subscription": subscription["id"] if subscription else None,
            "pretax_credit_amounts": [],
            "taxes": [],
            "subtotal": total,
            "quantity_decimal": str(quantity),
            "pricing": {
                "type": "price_details",
                "price_details": {"price": price["id"], "product": price["product"]},
                "unit_amount_decimal": price["unit_amount_decimal"],
            },
        }
    )
    if subscription is not None:
        line["parent"] = {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": item_id,
            },
        }
    else:
        line["parent"] = None
    return line


def finalize(store: Store, invoice: dict[str, Any]) -> None:
    customer = store.find(invoice["customer"]) or store.deleted[invoice["customer"]]
    before = copy.deepcopy(invoice)
    now = store.now()
    sequence = customer.get("next_invoice_sequence", 1)
    if invoice["customer"] in store.objects:
        customer["next_invoice_sequence"] = sequence + 1
    base = store.base_url
    invoice.update(
        {
            "status": "open",
            "number": f"{customer.get('invoice_prefix', 'EMU')}-{sequence:04d}",
            "effective_at": now,
            "ending_balance": 0,
            "hosted_invoice_url": f"{base}/i/{invoice['id']}",
            "invoice_pdf": f"{base}/i/{invoice['id']}/pdf",
            "status_transitions": {**invoice["status_transitions"], "finalized_at": now},
        }
    )
    if invoice["collection_method"] == "send_invoice":
        invoice["due_date"] = now + 30 * DAY
    emit(store, "invoice.finalized", invoice, before)


def attempt_payment(store: Store, invoice: dict[str, Any], payment_method: str | None) -> bool:
    """Charge an open invoice with a test payment method; emits paid/payment_failed events
    (and payment_action_required for a card that needs authentication, see `dunning`)."""
    from .dunning import authenticated, needs_authentication, next_attempt, require_action

    before = copy.deepcopy(invoice)
    now = store.now()
    if (
        invoice["amount_due"] > 0
        and needs_authentication(payment_method)
        and not authenticated(store, invoice)
    ):
        require_action(store, invoice, before)
        return False
    if invoice["amount_due"] == 0 or (payment_method is not None and not declines(payment_method)):
        invoice.update(
            {
                "status": "paid",
                "attempted": invoice["amount_due"] > 0,
                "attempt_count": invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "next_payment_attempt": None,
                "status_transitions": {**invoice["status_transitions"], "paid_at": now},
            }
        )
        emit(store, "invoice.paid", invoice, before)
        emit(store, "invoice.payment_succeeded", invoice)
        return True
    invoice.update({"attempted": True, "attempt_count": invoice["attempt_count"] + 1})
    invoice["next_payment_attempt"] = next_attempt(store, invoice)
    emit(store, "invoice.payment_failed", invoice, before)
    return False
