"""Subscriptions, subscription items and invoices over the API."""

from __future__ import annotations

import copy
from typing import Any

from ..billing import (
    cancel_now,
    create_subscription,
    interval_of_price,
    invoice_and_charge,
    is_metered,
    item_lines,
    new_item,
    period_of,
    quantity_of,
    set_period,
)
from ..errors import StripeError, card_declined, missing
from ..events import emit
from ..invoicing import (
    TIMES,
    add_interval,
    attempt_payment,
    declines,
    line_for,
    payment_method_for,
)
from ..render import plan_from_price, render
from ..store import Store, created_filter, paginate
from . import Call, apply_metadata, empty_to_none, route

_ENDED = ("canceled", "incomplete_expired")


@route("POST", "/v1/subscriptions", "SubscriptionCreateParams")
def create(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    if "customer" not in p:
        raise StripeError(400, "Missing required param: customer.", param="customer")
    store.get("customer", p["customer"])
    items: list[tuple[dict[str, Any], int | None]] = []
    for index, item in enumerate(p.get("items", [])):
        if "price" not in item:
            raise StripeError(
                400,
                f"Missing required param: items[{index}][price].",
                param=f"items[{index}][price]",
            )
        price = store.get("price", item["price"])
        if is_metered(price):
            refuse_metered_quantity(item, f"items[{index}]")
            items.append((price, None))
        else:
            items.append((price, item.get("quantity", 1)))
    if not items:
        raise StripeError(400, "Missing required param: items.", param="items")
    codes = [d.get("promotion_code") for d in p.get("discounts") or [] if d.get("promotion_code")]
    if codes:
        from .coupons import redeemable

        redeemable(store, codes[0], [price["product"] for price, _ in items])
    trial_end = p.get("trial_end")
    if trial_end == "now":
        trial_end = None
    trial_days = p.get("trial_period_days")
    if p.get("trial_from_plan") and not trial_days:
        trial_days = items[0][0]["recurring"].get("trial_period_days")
    sub = create_subscription(
        store,
        p["customer"],
        items,
        trial_days=trial_days,
        trial_end=trial_end,
        default_payment_method=p.get("default_payment_method"),
        payment_behavior=p.get("payment_behavior", "allow_incomplete"),
        collection_method=p.get("collection_method", "charge_automatically"),
        metadata=p.get("metadata") or {},
        cancel_at_period_end=p.get("cancel_at_period_end", False),
        description=p.get("description"),
        promotion_codes=codes[:1],
    )
    return render(store, sub, call.expand)


@route("GET", "/v1/subscriptions/{id}", "SubscriptionRetrieveParams")
def retrieve(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("subscription", call.args[0]), call.expand)


@route("POST", "/v1/subscriptions/{id}", "SubscriptionUpdateParams")
def update(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    sub = store.get("subscription", call.args[0])
    if sub["status"] in _ENDED and set(p) - {"metadata", "cancellation_details", "expand"}:
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    before = copy.deepcopy(sub)
    if "default_payment_method" in p:
        sub["default_payment_method"] = empty_to_none(p["default_payment_method"])
    if "description" in p:
        sub["description"] = empty_to_none(p["description"])
    if "cancellation_details" in p:
        details = p["cancellation_details"]
        for key in ("comment", "feedback"):
            if key in details:
                sub["cancellation_details"][key] = empty_to_none(details[key])
    if "cancel_at_period_end" in p:
        at_end = p["cancel_at_period_end"]
        sub["cancel_at_period_end"] = at_end
        sub["cancel_at"] = period_of(sub)[1] if at_end else None
        sub["canceled_at"] = store.now() if at_end else None
    if "cancel_at" in p:
        cancel_at = empty_to_none(p["cancel_at"])
        if cancel_at in ("max_period_end", "min_period_end"):
            cancel_at = period_of(sub)[1]
        sub["cancel_at"] = cancel_at
        sub["cancel_at_period_end"] = cancel_at is not None and cancel_at == period_of(sub)[1]
    apply_metadata(sub, p.get("metadata"))
    if "pause_collection" in p:
        from .lifecycle import set_pause_collection

        set_pause_collection(store, sub, p["pause_collection"])
    if p.get("trial_end") == "now" and sub["status"] == "trialing":
        _end_trial_now(store, sub)
    elif isinstance(p.get("trial_end"), int) and sub["status"] == "trialing":
        # Moving the trial's end moves the current (trial) period with it.
        sub["trial_end"] = sub["billing_cycle_anchor"] = p["trial_end"]
        set_period(sub, period_of(sub)[0], p["trial_end"])
        store.meta_for(sub["id"]).pop("trial_notice_sent", None)
    if "items" in p:
        _change_items(store, sub, p["items"], p.get("proration_behavior", "create_prorations"))
    if "discounts" in p:
        _discount(store, sub, p["discounts"])
    emit(store, "customer.subscription.updated", sub, before)
    return render(store, sub, call.expand)


def _discount(store: Store, sub: dict[str, Any], discounts: Any) -> None:
    """`discounts=[{promotion_code}]` replaces the subscription's discount; `""` removes it."""
    from .coupons import redeem, redeemable

    if not discounts:
        sub["discounts"] = []
        return
    code = discounts[0].get("promotion_code")
    if not code:
        raise StripeError(400, "Missing required param: discounts[0][promotion_code].")
    prices = [store.get("price", _price_id(item)) for item in sub["items"]["data"]]
    redeemable(store, code, [price["product"] for price in prices])
    sub["discounts"] = [redeem(store, code, customer=sub["customer"], subscription=sub["id"])["id"]]


def _end_trial_now(store: Store, sub: dict[str, Any]) -> None:
    now = store.now()
    interval, count = interval_of_price(store.get("price", _price_id(sub["items"]["data"][0])))
    sub["trial_end"] = now
    sub["billing_cycle_anchor"] = now
    set_period(sub, now, add_interval(now, interval, count))
    emit(store, "customer.subscription.trial_will_end", sub)
    _, paid = invoice_and_charge(
        store, sub, item_lines(store, sub, period_of(sub)), "subscription_update", (now, now)
    )
    sub["status"] = "active" if paid else "past_due"


def _price_id(item: dict[str, Any]) -> str:
    price = item["price"]
    return price if isinstance(price, str) else str(price["id"])


def _amount(store: Store, item: dict[str, Any]) -> int:
    """What a licensed item bills a period (a metered one bills its usage, in arrears: 0)."""
    price = store.get("price", _price_id(item))
    return 0 if is_metered(price) else int(price["unit_amount"]) * quantity_of(item)


def refuse_metered_quantity(entry: dict[str, Any], where: str) -> None:
    """Stripe's answer to a quantity on a metered price."""
    if entry.get("quantity") is not None:
        raise StripeError(
            400,
            "Quantity should not be specified where usage_type is `metered`. Remove quantity "
            f"from `{where}`.",
            param=f"{where}[quantity]",
        )


def _change_items(
    store: Store, sub: dict[str, Any], changes: list[dict[str, Any]], proration_behavior: str
) -> None:
    now = store.now()
    start, end = period_of(sub)
    old_amounts = {i["id"]: _amount(store, i) for i in sub["items"]["data"]}
    old_items = {i["id"]: copy.deepcopy(i) for i in sub["items"]["data"]}
    old_interval = interval_of_price(store.get("price", _price_id(sub["items"]["data"][0])))
    for index, change in enumerate(changes):
        item_id = change.get("id")
        if item_id:
            item = next((i for i in sub["items"]["data"] if i["id"] == item_id), None)
            if item is None:
                raise missing("subscription_item", item_id, param=f"items[{index}][id]")
            if change.get("deleted"):
                sub["items"]["data"].remove(item)
                continue
            if "price" in change:
                new_price = store.get("price", change["price"])
                item["price"] = new_price["id"]
                item["plan"] = plan_from_price(new_price)
            price = store.get("price", _price_id(item))
            if is_metered(price):
                refuse_metered_quantity(change, f"items[{index}]")
                item.pop("quantity", None)
            elif "quantity" in change:
                item["quantity"] = change["quantity"]
            elif "quantity" not in item:
                item["quantity"] = 1  # from a metered price to a licensed one
            apply_metadata(item, change.get("metadata"))
        else:
            if "price" not in change:
                raise StripeError(
                    400,
                    f"Missing required param: items[{index}][price].",
                    param=f"items[{index}][price]",
                )
            price = store.get("price", change["price"])
            if is_metered(price):
                refuse_metered_quantity(change, f"items[{index}]")
                item = new_item(store, sub["id"], price, None)
            else:
                item = new_item(store, sub["id"], price, change.get("quantity", 1))
            item["current_period_start"], item["current_period_end"] = start, end
            sub["items"]["data"].append(item)
    if not sub["items"]["data"]:
        raise StripeError(400, "A subscription must have at least one item.", param="items")
    new_interval = interval_of_price(store.get("price", _price_id(sub["items"]["data"][0])))
    if sub["status"] == "trialing":
        return
    if new_interval != old_interval:
        # A new interval restarts the billing period now and bills it at once, as Stripe does.
        new_end = add_interval(now, *new_interval)
        set_period(sub, now, new_end)
        sub["billing_cycle_anchor"] = now
        lines = proration_lines(store, sub, old_items, old_amounts, (start, end), now)
        lines = [ln for ln in lines if ln["amount"] < 0] + item_lines(store, sub, (now, new_end))
        _bill(store, sub, lines)
        return
    if proration_behavior == "none":
        return
    lines = proration_lines(store, sub, old_items, old_amounts, (start, end), now)
    if not lines:
        return
    if proration_behavior == "always_invoice":
        _bill(store, sub, lines)
    else:
        store.meta_for(sub["id"]).setdefault("prorations", []).extend(lines)


def _bill(store: Store, sub: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    now = store.now()
    _, paid = invoice_and_charge(store, sub, lines, "subscription_update", (now, now))
    if not paid and sub["status"] == "active":
        sub["status"] = "past_due"


def proration_lines(
    store: Store,
    sub: dict[str, Any],
    old_items: dict[str, dict[str, Any]],
    old_amounts: dict[str, int],
    period: tuple[int, int],
    now: int,
) -> list[dict[str, Any]]:
    start, end = period
    share = max(0.0, (end - now) / (end - start)) if end > start else 0.0
    lines: list[dict[str, Any]] = []
    current = {i["id"]: i for i in sub["items"]["data"]}
    for item_id in set(old_items) | set(current):
        old = old_items.get(item_id)
        new = current.get(item_id)
        if old is not None and new is not None and _amount(store, new) == old_amounts[item_id]:
            continue
        if old is not None and old_amounts[item_id]:
            price = store.get("price", _price_id(old))
            amount = -round(old_amounts[item_id] * share)
            lines.append(
                line_for(
                    store,
                    price,
                    quantity_of(old),
                    (now, end),
                    subscription=sub,
                    item_id=item_id,
                    amount=amount,
                    proration=True,
                    description=f"Unused time on {quantity_of(old)} {TIMES} {price['product']}",
                )
            )
        if new is not None and _amount(store, new):
            price = store.get("price", _price_id(new))
            amount = round(_amount(store, new) * share)
            lines.append(
                line_for(
                    store,
                    price,
                    quantity_of(new),
                    (now, end),
                    subscription=sub,
                    item_id=item_id,
                    amount=amount,
                    proration=True,
                    description=f"Remaining time on {quantity_of(new)} {TIMES} {price['product']}",
                )
            )
    return lines


@route("DELETE", "/v1/subscriptions/{id}", "SubscriptionCancelParams")
def cancel(call: Call) -> dict[str, Any]:
    store = call.store
    sub = store.get("subscription", call.args[0])
    if sub["status"] in _ENDED:
        raise StripeError(
            400,
            f"This subscription is already canceled: {sub['id']}",
            code="subscription_canceled",
        )
    details = call.params.get("cancellation_details", {})
    for key in ("comment", "feedback"):
        if key in details:
            sub["cancellation_details"][key] = empty_to_none(details[key])
    cancel_now(store, sub)
    return render(store, sub, call.expand)


@route("GET", "/v1/subscriptions", "SubscriptionListParams")
def list_subscriptions(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("subscription")
    status = p.get("status")
    if status is None:
        rows = [r for r in rows if r["status"] not in _ENDED]
    elif status == "ended":
        rows = [r for r in rows if r["status"] in _ENDED]
    elif status != "all":
        rows = [r for r in rows if r["status"] == status]
    if "customer" in p:
        rows = [r for r in rows if r["customer"] == p["customer"]]
    if "price" in p:
        rows = [r for r in rows if any(_price_id(i) == p["price"] for i in r["items"]["data"])]
    if "collection_method" in p:
        rows = [r for r in rows if r["collection_method"] == p["collection_method"]]
    rows = created_filter(rows, p.get("created"))
    return render(call.store, paginate(rows, p, "/v1/subscriptions", call.store), call.expand)


@route("GET", "/v1/subscription_items", "SubscriptionItemListParams")
def list_items(call: Call) -> dict[str, Any]:
    sub = call.store.get("subscription", call.params["subscription"])
    rows = list(reversed(sub["items"]["data"]))
    url = f"/v1/subscription_items?subscription={sub['id']}"
    return render(call.store, paginate(rows, call.params, url, call.store), call.expand)


# invoices


@route("GET", "/v1/invoices/{id}", "InvoiceRetrieveParams")
def retrieve_invoice(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("invoice", call.args[0]), call.expand)


@route("GET", "/v1/invoices", "InvoiceListParams")
def list_invoices(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("invoice")
    for name in ("customer", "subscription", "status", "collection_method"):
        if name in p:
            rows = [r for r in rows if _invoice_field(r, name) == p[name]]
    rows = created_filter(rows, p.get("created"))
    return render(call.store, paginate(rows, p, "/v1/invoices", call.store), call.expand)


def _invoice_field(invoice: dict[str, Any], name: str) -> Any:
    if name == "subscription":
        parent = invoice.get("parent") or {}
        return (parent.get("subscription_details") or {}).get("subscription")
    return invoice.get(name)


@route("GET", "/v1/invoices/{id}/lines", "InvoiceLineItemListParams")
def list_invoice_lines(call: Call) -> dict[str, Any]:
    invoice = call.store.get("invoice", call.args[0])
    rows = list(invoice["lines"]["data"])
    url = f"/v1/invoices/{invoice['id']}/lines"
    return render(call.store, paginate(rows, call.params, url, call.store), call.expand)


@route("POST", "/v1/invoices/{id}/pay", "InvoicePayParams")
def pay_invoice(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    invoice = store.get("invoice", call.args[0])
    if invoice["status"] != "open":
        raise StripeError(400, "Invoice is already paid", code="invoice_already_paid")
    sub_id = _invoice_field(invoice, "subscription")
    sub = store.find(sub_id) if sub_id else None
    pm = p.get("payment_method") or payment_method_for(store, sub, invoice["customer"])
    if p.get("paid_out_of_band"):
        pm = "pm_card_visa"
    if pm is None:
        raise StripeError(
            400, "This customer has no attached payment source or default payment method."
        )
    if declines(pm):
        attempt_payment(store, invoice, pm)
        raise card_declined()
    attempt_payment(store, invoice, pm)
    if sub is not None and sub["status"] in ("incomplete", "past_due", "unpaid"):
        before = copy.deepcopy(sub)
        sub["status"] = "active"
        emit(store, "customer.subscription.updated", sub, before)
    return render(store, invoice, call.expand)
