"""Discounts: a percentage or a flat amount off a transaction's items, once or recurring."""

from __future__ import annotations

from typing import Any

from .. import validate as v
from ..errors import invalid
from ..notifications import emit
from . import Call, Listed, route
from .customers import apply_update, listing

_DISCOUNT = {
    "description": v.text,
    "enabled_for_checkout": v.boolean,
    "code": v.nullable(v.string),
    "type": v.enum("percentage", "flat", "flat_per_seat"),
    "mode": v.enum("standard", "custom"),
    "amount": v.string,
    "currency_code": v.nullable(v.currency),
    "recur": v.boolean,
    "maximum_recurring_intervals": v.nullable(v.positive),
    "usage_limit": v.nullable(v.positive),
    "restrict_to": v.nullable(v.listof(v.string)),
    "expires_at": v.nullable(v.timestamp),
    "custom_data": v.custom_data,
    "status": v.STATUS,
    # Discount groups are not modelled: accepted, not kept.
    "discount_group_id": v.nullable(v.string),
}


@route("POST", "/discounts")
def create_discount(call: Call) -> dict[str, Any]:
    values = v.fields(call.body, _DISCOUNT, ("description", "type", "amount"))
    if values["type"] != "percentage" and not values.get("currency_code"):
        raise invalid("currency_code", "is required for a flat discount")
    now = call.store.now()
    discount = {
        "id": call.store.new_id("dsc"),
        "status": "active",
        "description": values["description"],
        "enabled_for_checkout": values.get("enabled_for_checkout", False),
        "code": values.get("code"),
        "type": values["type"],
        "mode": values.get("mode", "standard"),
        "amount": values["amount"],
        "currency_code": values.get("currency_code"),
        "recur": values.get("recur", False),
        "maximum_recurring_intervals": values.get("maximum_recurring_intervals"),
        "usage_limit": values.get("usage_limit"),
        "restrict_to": values.get("restrict_to"),
        "expires_at": values.get("expires_at"),
        "times_used": 0,
        "created_at": now,
        "updated_at": now,
        "custom_data": values.get("custom_data"),
    }
    call.store.add("discount", discount)
    emit(call.store, "discount.created", discount)
    return discount


@route("GET", "/discounts")
def list_discounts(call: Call) -> Listed:
    return listing(call, call.store.all("discount"), "description", "code")


@route("GET", "/discounts/{id}")
def get_discount(call: Call) -> dict[str, Any]:
    return call.store.get("discount", call.args[0])


@route("PATCH", "/discounts/{id}")
def update_discount(call: Call) -> dict[str, Any]:
    discount = call.store.get("discount", call.args[0])
    values = v.fields(call.body, _DISCOUNT)
    values.pop("discount_group_id", None)
    apply_update(call, "discount", discount, values)
    return discount
