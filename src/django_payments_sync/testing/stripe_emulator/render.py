"""Turning stored objects into API responses: fresh copies, nested prices, and `expand[]`."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import StripeError

if TYPE_CHECKING:
    from .store import Store


def render(store: Store, obj: dict[str, Any], expand: list[str] | None = None) -> dict[str, Any]:
    """A response-ready copy of `obj`, with the requested dotted `expand` paths resolved."""
    out = copy.deepcopy(obj)
    _refresh_nested(store, out)
    for path in expand or []:
        _expand(store, out, path.split("."), path)
    return out


def _refresh_nested(store: Store, obj: dict[str, Any]) -> None:
    # Stripe always embeds the current price in subscription items; store them by reference.
    kind = obj.get("object")
    if kind == "subscription":
        for item in obj["items"]["data"]:
            _refresh_item(store, item)
    elif kind == "subscription_item":
        _refresh_item(store, obj)
    elif kind == "list":
        for row in obj.get("data", []):
            if isinstance(row, dict):
                _refresh_nested(store, row)


def _refresh_item(store: Store, item: dict[str, Any]) -> None:
    price_id = item["price"] if isinstance(item["price"], str) else item["price"]["id"]
    price = store.find(price_id) or store.deleted.get(price_id)
    if price is None:
        return
    item["price"] = copy.deepcopy(price)
    item["plan"] = plan_from_price(price)


def plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` view of a recurring price that Stripe still returns beside it."""
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": False,
        "metadata": copy.deepcopy(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _expand(store: Store, node: Any, parts: list[str], full: str) -> None:
    if not parts:
        return
    if isinstance(node, list):
        for element in node:
            _expand(store, element, parts, full)
        return
    if not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if head not in node:
        raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
    value = node[head]
    if isinstance(value, str):
        target = store.find(value) or store.deleted.get(value)
        if target is None:
            raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
        node[head] = render(store, target)
        value = node[head]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        node[head] = [render(store, store.find(v) or {"id": v}) for v in value]
        value = node[head]
    if value is not None:
        _expand(store, value, rest, full)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Stripe's `previous_attributes`: old values of what changed, recursing into hashes."""
    out: dict[str, Any] = {}
    for key, old in before.items():
        new = after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key != "metadata":
            out[key] = diff(old, new)
        elif key == "metadata" and isinstance(old, dict) and isinstance(new, dict):
            # Keys added since show a null previous value.
            out[key] = {k: old.get(k) for k in set(old) | set(new) if old.get(k) != new.get(k)}
        else:
            out[key] = copy.deepcopy(old)
    return out
