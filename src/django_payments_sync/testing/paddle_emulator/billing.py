"""Paying transactions, and what a payment does: subscriptions created, renewed, past due."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import PaddleError
from .money import (
    CARD_DECLINED,
    CARD_OK,
    discount_applies,
    fill_details,
    item_of,
    payment_attempt,
    subscription_discount,
    use_discount,
)
from .notifications import emit
from .periods import add_interval, period
from .store import iso

if TYPE_CHECKING:
    from .store import Store


def card_for(store: Store, customer_id: str | None) -> dict[str, Any]:
    """The card on file for a customer (the checkout's card; `declined` after a switch)."""
    return store.meta_for(customer_id or "").get("card", CARD_OK)


def set_card(store: Store, customer_id: str, *, declined: bool) -> None:
    store.meta_for(customer_id)["card"] = CARD_DECLINED if declined else CARD_OK


def new_transaction(
    store: Store,
    *,
    items: list[dict[str, Any]],
    customer_id: str | None,
    address_id: str | None,
    business_id: str | None,
    currency_code: str,
    origin: str,
    collection_mode: str = "automatic",
    subscription_id: str | None = None,
    custom_data: dict[str, Any] | None = None,
    billing_details: dict[str, Any] | None = None,
    billing_period: dict[str, str] | None = None,
    discount_id: str | None = None,
) -> dict[str, Any]:
    now = store.now()
    txn: dict[str, Any] = {
        "id": store.new_id("txn"),
        "status": "draft",
        "customer_id": customer_id,
        "address_id": address_id,
        "business_id": business_id,
        "custom_data": custom_data,
        "origin": origin,
        "collection_mode": collection_mode,
        "subscription_id": subscription_id,
        "invoice_id": None,
        "invoice_number": None,
        "billing_details": billing_details,
        "billing_period": billing_period,
        "currency_code": currency_code,
        "discount_id": discount_id,
        "created_at": now,
        "updated_at": now,
        "billed_at": None,
        "revised_at": None,
        "items": items,
        "details": {},
        "payments": [],
        "checkout": None,
        "discount": None,
        "available_payment_methods": ["card", "paypal"],
    }
    fill_details(store, txn)
    store.add("transaction", txn)
    return txn


def is_ready(txn: dict[str, Any]) -> bool:
    return bool(txn["items"] and txn["customer_id"] and txn["address_id"])


def touch(store: Store, txn: dict[str, Any], status: str) -> None:
    txn["status"] = status
    txn["updated_at"] = store.now()


def assign_invoice(store: Store, txn: dict[str, Any]) -> None:
    if txn["invoice_number"] is None:
        count = sum(1 for t in store.all("transaction") if t["invoice_number"])
        txn["invoice_id"] = store.new_id("inv")
        txn["invoice_number"] = f"325-{10001 + count}"
    txn["billed_at"] = txn["billed_at"] or store.now()


def charge(store: Store, txn: dict[str, Any], card: dict[str, Any]) -> bool:
    """One payment attempt; on success the transaction is paid (not yet completed)."""
    attempt = payment_attempt(store, txn, card)
    txn["payments"].insert(0, attempt)
    txn["updated_at"] = store.now()
    if attempt["status"] != "captured":
        emit(store, "transaction.payment_failed", txn)
        return False
    assign_invoice(store, txn)
    touch(store, txn, "paid")
    emit(store, "transaction.paid", txn)
    return True


def complete(store: Store, txn: dict[str, Any]) -> None:
    touch(store, txn, "completed")
    emit(store, "transaction.completed", txn)


def pay_checkout(store: Store, txn: dict[str, Any], *, declined: bool = False) -> dict[str, Any]:
    """What the hosted checkout's Pay button does: charge, then create the subscription."""
    if txn["status"] not in ("draft", "ready", "billed"):
        raise PaddleError(
            400,
            "transaction_immutable",
            f"transaction {txn['id']} is {txn['status']} and cannot be paid again",
        )
    if not is_ready(txn):
        raise PaddleError(
            400,
            "transaction_not_ready",
            "transaction needs a customer and an address before it can be paid",
        )
    card = CARD_DECLINED if declined else CARD_OK
    if not charge(store, txn, card):
        raise PaddleError(402, "transaction_payment_declined", "The card was declined.")
    store.meta_for(txn["customer_id"])["card"] = card
    recurring = [i for i in txn["items"] if i["price"]["billing_cycle"] is not None]
    if recurring and txn["subscription_id"] is None:
        sub = create_subscription(store, txn, recurring)
        txn["subscription_id"] = sub["id"]
        txn["billing_period"] = copy.deepcopy(sub["current_billing_period"])
        txn["updated_at"] = store.now()
    complete(store, txn)
    return txn


def bill_manual(store: Store, txn: dict[str, Any]) -> None:
    """Mark a manually collected transaction billed (an invoice is issued): for recurring
    prices Paddle opens the subscription now, before the invoice is paid."""
    assign_invoice(store, txn)
    touch(store, txn, "billed")
    emit(store, "transaction.billed", txn)
    recurring = [i for i in txn["items"] if i["price"]["billing_cycle"] is not None]
    if recurring and txn["subscription_id"] is None:
        sub = create_subscription(store, txn, recurring)
        txn["subscription_id"] = sub["id"]
        txn["billing_period"] = copy.deepcopy(sub["current_billing_period"])
        txn["updated_at"] = store.now()
        emit(store, "transaction.updated", txn)


# subscriptions


def _sub_item(store: Store, item: dict[str, Any], start: float, trial_end: float | None) -> Any:
    price = item["price"]
    cycle = price["billing_cycle"]
    now = iso(start)
    next_billed = trial_end or add_interval(start, cycle["interval"], cycle["frequency"])
    return {
        "status": "trialing" if trial_end else "active",
        "quantity": item["quantity"],
        "recurring": True,
        "created_at": now,
        "updated_at": now,
        "previously_billed_at": None if trial_end else now,
        "next_billed_at": iso(next_billed),
        "trial_dates": {"starts_at": now, "ends_at": iso(trial_end)} if trial_end else None,
        "price": copy.deepcopy(price),
        "product": copy.deepcopy(store.get("product", price["product_id"])),
    }


def create_subscription(
    store: Store, txn: dict[str, Any], items: list[dict[str, Any]]
) -> dict[str, Any]:
    start = store.time()
    cycle = items[0]["price"]["billing_cycle"]
    trials = [i["price"]["trial_period"] for i in items if i["price"]["trial_period"]]
    trial_end = (
        add_interval(start, trials[0]["interval"], trials[0]["frequency"]) if trials else None
    )
    sub_id = store.new_id("sub")
    now = iso(start)
    current = {"starts_at": now, "ends_at": iso(trial_end)} if trial_end else period(start, cycle)
    portal = f"{store.base_url}/portal/subscriptions/{sub_id}"
    sub = {
        "id": sub_id,
        "status": "trialing" if trial_end else "active",
        "customer_id": txn["customer_id"],
        "address_id": txn["address_id"],
        "business_id": txn["business_id"],
        "currency_code": txn["currency_code"],
        "created_at": now,
        "updated_at": now,
        "started_at": now,
        "first_billed_at": None if trial_end else now,
        "next_billed_at": current["ends_at"],
        "paused_at": None,
        "canceled_at": None,
        "collection_mode": txn["collection_mode"],
        "billing_details": copy.deepcopy(txn["billing_details"]),
        "current_billing_period": current,
        "billing_cycle": copy.deepcopy(cycle),
        "scheduled_change": None,
        "items": [_sub_item(store, i, start, trial_end) for i in items],
        "custom_data": copy.deepcopy(txn["custom_data"]),
        "management_urls": {
            "update_payment_method": f"{portal}/update-payment-method",
            "cancel": f"{portal}/cancel",
        },
        "discount": None,
        "import_meta": None,
    }
    discount = store.find(txn.get("discount_id") or "")
    if discount is not None and discount["recur"]:
        # A recurring discount of the checkout stays with the subscription; that checkout's
        # transaction was its first use.
        sub["discount"] = subscription_discount(discount, now)
        use_discount(store, sub)
    store.add("subscription", sub)
    emit(store, "subscription.created", sub, extra={"transaction_id": txn["id"]})
    emit(store, "subscription.trialing" if trial_end else "subscription.activated", sub)
    return sub


def emit_updated(store: Store, sub: dict[str, Any], before: dict[str, Any]) -> bool:
    if sub == before:
        return False
    sub["updated_at"] = store.now()
    emit(store, "subscription.updated", sub)
    return True


def recurring_items(sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"price": copy.deepcopy(i["price"]), "quantity": i["quantity"]} for i in sub["items"]]


def bill_subscription(
    store: Store, sub: dict[str, Any], origin: str, items: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], bool]:
    """Create the subscription's transaction for `items` (its items by default) and charge it."""
    rows = [item_of(store, i["price"], i["quantity"]) for i in (items or recurring_items(sub))]
    for row, given in zip(rows, items or [], strict=False):
        row["proration"] = given.get("proration")
    # A renewal takes the subscription's discount while it lasts.
    discount_id = discount_applies(store, sub) if origin == "subscription_recurring" else None
    if discount_id is not None:
        use_discount(store, sub)
    txn = new_transaction(
        store,
        items=rows,
        customer_id=sub["customer_id"],
        address_id=sub["address_id"],
        business_id=sub["business_id"],
        currency_code=sub["currency_code"],
        origin=origin,
        collection_mode=sub["collection_mode"],
        subscription_id=sub["id"],
        billing_period=copy.deepcopy(sub["current_billing_period"]),
        discount_id=discount_id,
    )
    touch(store, txn, "billed")
    assign_invoice(store, txn)
    emit(store, "transaction.created", txn)
    emit(store, "transaction.billed", txn)
    if sub["collection_mode"] == "manual":
        return txn, True
    paid = charge(store, txn, card_for(store, sub["customer_id"]))
    if paid:
        complete(store, txn)
    return txn, paid
