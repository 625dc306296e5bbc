"""Subscriptions: get, list, update items (with proration), pause, resume, cancel, activate."""

from __future__ import annotations

import copy
from typing import Any

from .. import validate as v
from ..billing import bill_subscription, emit_updated
from ..errors import PaddleError, invalid
from ..money import item_of, preview_details, subscription_discount
from ..periods import period, share_left
from ..schedule import cancel_now, fail_renewal, pause_now, renew, resume_now
from ..store import iso, paginate, parse_time
from . import Call, Listed, route
from .transactions import _items

PRORATION_MODES = (
    "prorated_immediately",
    "prorated_next_billing_period",
    "full_immediately",
    "full_next_billing_period",
    "do_not_bill",
)
_UPDATE = {
    "customer_id": v.id_of("ctm"),
    "address_id": v.id_of("add"),
    "business_id": v.nullable(v.id_of("biz")),
    "currency_code": v.currency,
    "next_billed_at": v.timestamp,
    "discount": v.nullable(v.obj({"id": v.string, "effective_from": v.string})),
    "collection_mode": v.enum("automatic", "manual"),
    "billing_details": v.nullable(v.custom_data),
    "scheduled_change": v.nullable(v.custom_data),
    "items": v.listof(v.custom_data),
    "proration_billing_mode": v.enum(*PRORATION_MODES),
    "on_payment_failure": v.enum("prevent_change", "apply_change"),
    "custom_data": v.custom_data,
}
_EFFECTIVE = v.enum("next_billing_period", "immediately")


def _live(call: Call) -> dict[str, Any]:
    sub = call.store.get("subscription", call.args[0])
    if sub["status"] == "canceled":
        raise PaddleError(
            400,
            "subscription_update_when_canceled",
            f"subscription {sub['id']} is canceled and cannot be changed",
        )
    return sub


@route("GET", "/subscriptions")
def list_subscriptions(call: Call) -> Listed:
    rows = call.store.all("subscription")
    for name in ("status", "customer_id", "address_id", "id", "collection_mode"):
        wanted = call.filter(name)
        if wanted:
            rows = [r for r in rows if r.get(name) in wanted]
    prices = call.filter("price_id")
    if prices:
        rows = [r for r in rows if any(i["price"]["id"] in prices for i in r["items"])]
    page, pagination = paginate(call.store, rows, call.path, call.query)
    return Listed(page, pagination)


@route("GET", "/subscriptions/{id}")
def get_subscription(call: Call) -> dict[str, Any]:
    sub = call.store.get("subscription", call.args[0])
    includes = call.includes()
    if not includes & {"next_transaction", "recurring_transaction_details"}:
        return sub
    items = [item_of(call.store, i["price"], i["quantity"]) for i in sub["items"]]
    details = preview_details(call.store, sub, items)
    out = dict(sub)
    if "recurring_transaction_details" in includes:
        out["recurring_transaction_details"] = details
    if "next_transaction" in includes and sub["next_billed_at"]:
        start = parse_time(sub["next_billed_at"])
        out["next_transaction"] = {
            "billing_period": period(start, sub["billing_cycle"]),
            "details": details,
            "adjustments": [],
        }
    return out


@route("PATCH", "/subscriptions/{id}")
def update_subscription(call: Call) -> dict[str, Any]:
    sub = _live(call)
    values = v.fields(call.body, _UPDATE)
    mode = values.pop("proration_billing_mode", None)
    on_failure = values.pop("on_payment_failure", "prevent_change")
    if ("items" in values or "next_billed_at" in values) and mode is None:
        raise invalid("proration_billing_mode", "is required when items or next_billed_at change")
    before = copy.deepcopy(sub)
    if "scheduled_change" in values:
        if values.pop("scheduled_change") is not None:
            raise invalid("scheduled_change", "can only be set to null (remove the change)")
        sub["scheduled_change"] = None
    for field, kind in (("customer_id", "customer"), ("address_id", "address")):
        if field in values:
            call.store.get(kind, values[field])
    if values.get("business_id"):
        call.store.get("business", values["business_id"])
    if "items" in values:
        _change_items(call, sub, values.pop("items"), str(mode), on_failure)
    if "next_billed_at" in values:
        sub["next_billed_at"] = values.pop("next_billed_at")
        if sub["current_billing_period"]:
            sub["current_billing_period"]["ends_at"] = sub["next_billed_at"]
    if "discount" in values:
        given = values["discount"]
        if given is None:
            sub["discount"] = None
        else:
            discount = call.store.get("discount", given["id"])
            sub["discount"] = subscription_discount(discount, call.store.now())
            call.store.meta_for(sub["id"])["discounted"] = 0
    sub.update({k: val for k, val in values.items() if k != "discount"})
    emit_updated(call.store, sub, before)
    return sub


def _change_items(
    call: Call, sub: dict[str, Any], rows: list[Any], mode: str, on_failure: str
) -> None:
    store = call.store
    items = _items(call, rows)
    if not any(item["price"]["billing_cycle"] for item in items):
        raise invalid("items", "a subscription needs at least one recurring price")
    old = {i["price"]["id"]: i["quantity"] for i in sub["items"]}
    start = store.time()
    if mode in ("prorated_immediately", "full_immediately") and sub["status"] == "active":
        share = share_left(sub["current_billing_period"], start) if "prorated" in mode else 1.0
        charged = []
        for item in items:
            extra = item["quantity"] - old.get(item["price"]["id"], 0)
            if extra > 0:
                row = item_of(store, item["price"], extra)
                row["proration"] = {
                    "rate": f"{share:.5f}",
                    "billing_period": copy.deepcopy(sub["current_billing_period"]),
                }
                charged.append(row)
        if charged:
            txn, paid = bill_subscription(store, sub, "subscription_update", charged)
            if not paid and on_failure == "prevent_change":
                raise PaddleError(
                    400,
                    "subscription_update_transaction_balance_less_than_charge_limit",
                    "The payment for this change was declined; the subscription is unchanged.",
                )
            if not paid:
                fail_renewal(store, sub, txn)
    now = iso(start)
    current = sub["current_billing_period"] or {"ends_at": sub["next_billed_at"]}
    kept = {i["price"]["id"]: i for i in sub["items"]}
    new_items = []
    for item in items:
        price = item["price"]
        existing = kept.get(price["id"])
        new_items.append(
            {
                "status": existing["status"] if existing else "active",
                "quantity": item["quantity"],
                "recurring": price["billing_cycle"] is not None,
                "created_at": existing["created_at"] if existing else now,
                "updated_at": now,
                "previously_billed_at": existing["previously_billed_at"] if existing else None,
                "next_billed_at": current["ends_at"],
                "trial_dates": existing["trial_dates"] if existing else None,
                "price": copy.deepcopy(price),
                "product": copy.deepcopy(store.get("product", price["product_id"])),
            }
        )
    sub["items"] = new_items


@route("POST", "/subscriptions/{id}/pause")
def pause_subscription(call: Call) -> dict[str, Any]:
    sub = _live(call)
    values = v.fields(
        call.body,
        {
            "effective_from": v.nullable(_EFFECTIVE),
            "resume_at": v.nullable(v.timestamp),
            "on_resume": v.enum("start_new_billing_period", "continue_existing_billing_period"),
        },
    )
    if sub["status"] not in ("active", "past_due", "trialing"):
        raise PaddleError(
            400, "subscription_not_active", f"subscription {sub['id']} is {sub['status']}"
        )
    resume_at = values.get("resume_at")
    if resume_at and parse_time(resume_at) <= call.store.time():
        raise invalid("resume_at", "must be in the future")
    call.store.meta_for(sub["id"])["on_resume"] = values.get(
        "on_resume", "start_new_billing_period"
    )
    if values.get("effective_from") == "immediately":
        pause_now(call.store, sub, resume_at)
        return sub
    before = copy.deepcopy(sub)
    sub["scheduled_change"] = {
        "action": "pause",
        "effective_at": sub["next_billed_at"],
        "resume_at": resume_at,
    }
    emit_updated(call.store, sub, before)
    return sub


@route("POST", "/subscriptions/{id}/resume")
def resume_subscription(call: Call) -> dict[str, Any]:
    sub = _live(call)
    values = v.fields(
        call.body,
        {
            "effective_from": v.nullable(v.string),
            "on_resume": v.enum("start_new_billing_period", "continue_existing_billing_period"),
        },
    )
    effective = values.get("effective_from") or "immediately"
    on_resume = values.get("on_resume", "start_new_billing_period")
    change = sub["scheduled_change"]
    if sub["status"] != "paused":
        if change is not None and change["action"] == "pause":
            before = copy.deepcopy(sub)
            sub["scheduled_change"] = None
            emit_updated(call.store, sub, before)
            return sub
        raise PaddleError(400, "subscription_not_paused", f"subscription {sub['id']} is not paused")
    if effective == "immediately":
        resume_now(call.store, sub, on_resume)
        return sub
    v.timestamp("effective_from", effective)
    if parse_time(effective) <= call.store.time():
        raise invalid("effective_from", "must be in the future")
    call.store.meta_for(sub["id"])["on_resume"] = on_resume
    before = copy.deepcopy(sub)
    sub["scheduled_change"] = {
        "action": "resume",
        "effective_at": effective,
        "resume_at": effective,
    }
    emit_updated(call.store, sub, before)
    return sub


@route("POST", "/subscriptions/{id}/cancel")
def cancel_subscription(call: Call) -> dict[str, Any]:
    sub = call.store.get("subscription", call.args[0])
    values = v.fields(call.body, {"effective_from": v.nullable(_EFFECTIVE)})
    if sub["status"] == "canceled":
        raise PaddleError(
            400,
            "subscription_is_canceled_action_invalid",
            f"subscription {sub['id']} is already canceled",
        )
    return cancel(call.store, sub, values.get("effective_from") or "next_billing_period")


def cancel(store: Any, sub: dict[str, Any], effective_from: str) -> dict[str, Any]:
    """Cancel now, or schedule it for the end of the period (paused ones stop at once)."""
    if effective_from == "immediately" or sub["status"] == "paused" or not sub["next_billed_at"]:
        cancel_now(store, sub)
        return sub
    before = copy.deepcopy(sub)
    sub["scheduled_change"] = {
        "action": "cancel",
        "effective_at": sub["next_billed_at"],
        "resume_at": None,
    }
    emit_updated(store, sub, before)
    return sub


@route("POST", "/subscriptions/{id}/activate")
def activate_subscription(call: Call) -> dict[str, Any]:
    """End a trial now: the first period starts and is billed."""
    sub = _live(call)
    if sub["status"] != "trialing":
        raise PaddleError(
            400, "subscription_not_trialing", f"subscription {sub['id']} is not trialing"
        )
    sub["next_billed_at"] = call.store.now()
    renew(call.store, sub)
    return sub
