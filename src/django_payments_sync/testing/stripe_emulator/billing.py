"""Subscriptions: creation, periods and renewals, trials, cancellation, and the clock."""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any

from .dunning import needs_authentication
from .errors import StripeError, card_declined
from .events import emit
from .fixtures import template
from .invoicing import (
    DAY,
    TIMES,
    add_interval,
    attempt_payment,
    declines,
    finalize,
    line_for,
    new_invoice,
    payment_method_for,
)
from .render import plan_from_price

if TYPE_CHECKING:
    from ..emulator_kit.clock import Due
    from .store import Store

TRIAL_NOTICE = 3 * DAY
INCOMPLETE_EXPIRY = 23 * 3600
NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. "
    "Please consider adding a default payment method."
)


def invoice_and_charge(
    store: Store,
    sub: dict[str, Any],
    lines: list[dict[str, Any]],
    billing_reason: str,
    period: tuple[int, int],
) -> tuple[dict[str, Any], bool]:
    invoice = new_invoice(
        store,
        sub["customer"],
        subscription=sub,
        lines=lines,
        billing_reason=billing_reason,
        period=period,
        collection_method=sub["collection_method"],
    )
    finalize(store, invoice)
    sub["latest_invoice"] = invoice["id"]
    if sub["collection_method"] == "send_invoice":
        return invoice, True
    paid = attempt_payment(store, invoice, payment_method_for(store, sub, sub["customer"]))
    return invoice, paid


# subscriptions


def item_lines(
    store: Store,
    sub: dict[str, Any],
    period: tuple[int, int],
    usage_period: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """The lines of the subscription's items: a licensed item bills `period` in advance, a
    metered one the usage its meter counted for the customer in `usage_period`, in arrears
    (`unit_amount` x that usage; nothing when there is no usage period: a first invoice)."""
    lines = []
    for item in sub["items"]["data"]:
        price = store.get("price", _price_id(item))
        if is_metered(price):
            used = usage(store, price, sub["customer"], usage_period) if usage_period else 0
            line = line_for(
                store, price, used, usage_period or period, subscription=sub, item_id=item["id"]
            )
        else:
            line = line_for(
                store, price, item["quantity"], period, subscription=sub, item_id=item["id"]
            )
        lines.append(line)
    return lines


def is_metered(price: dict[str, Any]) -> bool:
    recurring = price.get("recurring") or {}
    return recurring.get("usage_type") == "metered"


def usage(store: Store, price: dict[str, Any], customer_id: str, period: tuple[int, int]) -> int:
    """What the meter of a metered price aggregated for a customer in `[start, end)`."""
    from .resources.meters import aggregate

    meter = store.get("billing.meter", price["recurring"]["meter"])
    return round(aggregate(store, meter, customer_id, period[0], period[1]))


def quantity_of(item: dict[str, Any]) -> int:
    """A subscription item's quantity; a metered item has none (its usage is billed)."""
    return int(item.get("quantity") or 0)


def _price_id(item: dict[str, Any]) -> str:
    price = item["price"]
    return price if isinstance(price, str) else str(price["id"])


def new_item(
    store: Store, sub_id: str, price: dict[str, Any], quantity: int | None
) -> dict[str, Any]:
    """A subscription item; one of a metered price has no `quantity` (Stripe leaves it out)."""
    item = template("subscription_item")
    item.update(
        {
            "id": store.new_id("si_"),
            "created": store.now(),
            "metadata": {},
            "price": price["id"],
            "plan": plan_from_price(price),
            "quantity": quantity,
            "subscription": sub_id,
            "billing_thresholds": None,
            "current_period_start": store.now(),
            "current_period_end": store.now(),
        }
    )
    if is_metered(price):
        item.pop("quantity", None)
    return item


def set_period(sub: dict[str, Any], start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"] = start
        item["current_period_end"] = end


def period_of(sub: dict[str, Any]) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def interval_of(store: Store, sub: dict[str, Any]) -> tuple[str, int]:
    price = store.get("price", _price_id(sub["items"]["data"][0]))
    recurring = price["recurring"]
    return recurring["interval"], recurring["interval_count"]


def create_subscription(
    store: Store,
    customer_id: str,
    items: list[tuple[dict[str, Any], int | None]],
    *,
    trial_days: int | None = None,
    trial_end: int | None = None,
    default_payment_method: str | None = None,
    payment_behavior: str = "allow_incomplete",
    collection_method: str = "charge_automatically",
    metadata: dict[str, str] | None = None,
    cancel_at_period_end: bool = False,
    description: str | None = None,
    promotion_codes: list[str] | None = None,
) -> dict[str, Any]:
    """A subscription and its first invoice; `promotion_codes` (checked by the caller) are
    redeemed first, so that invoice is discounted already."""
    now = store.now()
    store.get("customer", customer_id)
    for index, (price, _quantity) in enumerate(items):
        if price["type"] != "recurring":
            raise StripeError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts "
                "prices with `type=recurring`.",
                param=f"items[{index}][price]",
            )
        if not price["active"]:
            raise StripeError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param=f"items[{index}][price]",
            )
    sub_id = store.new_id("sub_")
    sub = template("subscription")
    if trial_days:
        trial_end = now + trial_days * DAY
    currency = items[0][0]["currency"]
    sub.update(
        {
            "id": sub_id,
            "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
            "billing_cycle_anchor": trial_end or now,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"type": "classic", "flexible": None},
            "billing_thresholds": None,
            "billing_schedules": [],
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "collection_method": collection_method,
            "created": now,
            "currency": currency,
            "customer": customer_id,
            "default_payment_method": default_payment_method,
            "description": description,
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": len(items),
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "managed_payments": {"enabled": False},
            "metadata": dict(metadata or {}),
            "next_pending_invoice_item_invoice": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_update": None,
            "start_date": now,
            "status": "incomplete",
            "transfer_data": None,
            "trial_end": trial_end,
            "trial_start": now if trial_end else None,
        }
    )
    sub["items"]["data"] = [new_item(store, sub_id, p, q) for p, q in items]
    sub["items"].pop("total_count")
    interval, count = interval_of_price(items[0][0])
    period_end = trial_end or add_interval(now, interval, count)
    set_period(sub, now, period_end)
    if cancel_at_period_end:
        sub["cancel_at_period_end"] = True
        sub["cancel_at"] = period_end

    payment_method = default_payment_method or payment_method_for(store, None, customer_id)
    charges = not trial_end and collection_method == "charge_automatically"
    amount = sum(p["unit_amount"] * (q or 0) for p, q in items if not is_metered(p))
    if charges and amount > 0 and payment_behavior != "default_incomplete":
        if payment_method is None:
            raise StripeError(400, NO_PAYMENT_METHOD, code="resource_missing")
        if declines(payment_method) and payment_behavior == "error_if_incomplete":
            raise card_declined()

    store.add("subscription", sub)
    if promotion_codes:
        from .resources.coupons import redeem

        sub["discounts"] = [
            redeem(store, code, customer=customer_id, subscription=sub_id)["id"]
            for code in promotion_codes[:1]
        ]
    customer = store.get("customer", customer_id)
    if customer["currency"] is None:
        # Stripe fixes a customer's currency with its first subscription, quietly.
        customer["currency"] = currency
    if trial_end:
        sub["status"] = "trialing"
    elif (
        collection_method == "send_invoice"
        or amount == 0
        or (
            payment_behavior != "default_incomplete"
            and not declines(payment_method)
            and not needs_authentication(payment_method)
        )
    ):
        sub["status"] = "active"
    # The first invoice is made in the same request, so the created event already names it.
    sub["latest_invoice"] = store.new_id("in_")
    emit(store, "customer.subscription.created", sub)

    lines = item_lines(store, sub, (now, period_end))
    if trial_end:
        for line in lines:
            line["amount"] = line["subtotal"] = 0
            product_name = line["description"].split(f" {TIMES} ", 1)[1]
            line["description"] = f"Trial period for {product_name}"
    invoice = new_invoice(
        store,
        customer_id,
        subscription=sub,
        lines=lines,
        billing_reason="subscription_create",
        period=(now, now),
        collection_method=collection_method,
        invoice_id=sub["latest_invoice"],
    )
    finalize(store, invoice)
    if collection_method == "charge_automatically" and payment_behavior != "default_incomplete":
        attempt_payment(store, invoice, payment_method)
    elif invoice["amount_due"] == 0:
        attempt_payment(store, invoice, None)
    return sub


def interval_of_price(price: dict[str, Any]) -> tuple[str, int]:
    recurring = price["recurring"]
    return recurring["interval"], recurring["interval_count"]


def cancel_now(
    store: Store, sub: dict[str, Any], *, reason: str = "cancellation_requested"
) -> None:
    now = store.now()
    sub.update(
        {
            "status": "canceled",
            "canceled_at": sub["canceled_at"] or now,
            "ended_at": now,
            "cancellation_details": {**sub["cancellation_details"], "reason": reason},
        }
    )
    emit(store, "customer.subscription.deleted", sub)


def renew(store: Store, sub: dict[str, Any]) -> None:
    """The period (or the trial) ended: start the next one and bill it."""
    before = copy.deepcopy(sub)
    old_start, old_end = period_of(sub)
    if sub["cancel_at"] is not None and sub["cancel_at"] <= old_end:
        cancel_now(store, sub, reason="cancellation_requested")
        return
    interval, count = interval_of(store, sub)
    new_end = add_interval(old_end, interval, count)
    set_period(sub, old_end, new_end)
    # Licensed items bill the new period; metered ones the usage of the period that ended
    # (none of a trial's).
    used = None if sub["status"] == "trialing" else (old_start, old_end)
    lines = item_lines(store, sub, (old_end, new_end), used)
    pending = store.meta_for(sub["id"]).pop("prorations", [])
    lines = pending + lines
    was_trialing = sub["status"] == "trialing"
    if sub.get("pause_collection"):
        from .resources.lifecycle import paused_invoice

        invoice = new_invoice(
            store,
            sub["customer"],
            subscription=sub,
            lines=lines,
            billing_reason="subscription_cycle",
            period=(old_start, old_end),
            collection_method=sub["collection_method"],
        )
        sub["latest_invoice"] = invoice["id"]
        paused_invoice(store, sub, invoice)
        emit(store, "customer.subscription.updated", sub, before)
        return
    _, paid = invoice_and_charge(store, sub, lines, "subscription_cycle", (old_start, old_end))
    if paid:
        sub["status"] = "active"
    elif sub["status"] in ("active", "trialing"):
        sub["status"] = "past_due"
    if was_trialing:
        store.meta_for(sub["id"]).pop("trial_notice_sent", None)
    emit(store, "customer.subscription.updated", sub, before)


def next_due(store: Store) -> tuple[int, str, dict[str, Any]] | None:
    """The earliest scheduled change: (when, what, object)."""
    candidates: list[tuple[int, str, dict[str, Any]]] = []
    for sub in store.all("subscription"):
        status = sub["status"]
        if status in ("canceled", "incomplete_expired"):
            continue
        if status == "incomplete":
            candidates.append((sub["created"] + INCOMPLETE_EXPIRY, "expire_incomplete", sub))
            continue
        if status == "trialing" and not store.meta_for(sub["id"]).get("trial_notice_sent"):
            notice = max(sub["trial_end"] - TRIAL_NOTICE, sub["created"])
            candidates.append((notice, "trial_will_end", sub))
        if sub["cancel_at"] is not None and sub["cancel_at"] < period_of(sub)[1]:
            candidates.append((sub["cancel_at"], "cancel", sub))
        pause = sub.get("pause_collection")
        if pause and pause.get("resumes_at"):
            candidates.append((pause["resumes_at"], "resume", sub))
        candidates.append((period_of(sub)[1], "renew", sub))
    from .dunning import due_retries

    candidates += due_retries(store)
    for session in store.all("checkout.session"):
        if session["status"] == "open":
            candidates.append((session["expires_at"], "expire_session", session))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])


def advance(store: Store, seconds: int) -> int:
    """Move the clock on by `seconds`, performing every scheduled change on the way, in order."""
    from .events import set_request

    set_request(None, None)

    def due() -> Due | None:
        found = next_due(store)
        if found is None:
            return None
        when, what, obj = found
        return when, functools.partial(_perform, store, what, obj)

    store.clock.advance(seconds, due)
    return store.now()


def _perform(store: Store, what: str, obj: dict[str, Any]) -> None:
    if what == "renew":
        renew(store, obj)
    elif what == "cancel":
        cancel_now(store, obj)
    elif what == "retry_invoice":
        from .dunning import retry

        retry(store, obj)
    elif what == "resume":
        before = copy.deepcopy(obj)
        obj["pause_collection"] = None
        emit(store, "customer.subscription.updated", obj, before)
    elif what == "trial_will_end":
        store.meta_for(obj["id"])["trial_notice_sent"] = True
        emit(store, "customer.subscription.trial_will_end", obj)
    elif what == "expire_incomplete":
        before = copy.deepcopy(obj)
        obj["status"] = "incomplete_expired"
        emit(store, "customer.subscription.updated", obj, before)
    elif what == "expire_session":
        from .resources.sessions import expire_session

        expire_session(store, obj)
