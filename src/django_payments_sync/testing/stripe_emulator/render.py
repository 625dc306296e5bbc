"""Turning stored objects into API responses: fresh copies, nested prices, and `expand[]`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import StripeError

if TYPE_CHECKING:
    from .store import Store


def render(store: Store, obj: dict[str, Any], expand: list[str] | None = None) -> dict[str, Any]:
    """A response-ready copy of `obj`, with the requested dotted `expand` paths resolved."""
    out = copy.deepcopy(obj)
    _refresh_nested(store, out)
    for path in expand or []:
        _expand(store, out, path.split("."), path, out, ())
    return out


# Stripe's "includable" fields: absent from a response unless named in `expand[]`, then computed.
# Keyed by (the enclosing object's `object`, the dotted path from it); the function gets the
# store and that enclosing object and returns the value, or ABSENT to leave the field out.
ABSENT = object()
Includable = Callable[["Store", dict[str, Any]], Any]
INCLUDABLE: dict[tuple[str, str], Includable] = {}


def includable(kind: str, path: str) -> Callable[[Includable], Includable]:
    """Register how `path` on objects of `kind` is computed when it is expanded."""

    def register(fn: Includable) -> Includable:
        INCLUDABLE[(kind, path)] = fn
        return fn

    return register


#: Stripe's expandable fields, per `object`: an id string, or the object once expanded (what
#: Stripe's OpenAPI spec types as anyOf string and a resource), dotted inside nested hashes.
#: Only these, the includable fields and nested hashes on the way to them can be expanded: a
#: plain value (`balance`, `email`) cannot. tests/emulator/test_openapi_spec.py keeps this table
#: equal to the spec's.
EXPANDABLE: dict[str, frozenset[str]] = {
    kind: frozenset(paths)
    for kind, paths in {
        "account": ("settings.branding.icon", "settings.branding.logo"),
        "customer": ("default_source", "invoice_settings.default_payment_method", "test_clock"),
        "product": ("default_price", "tax_code"),
        "price": ("product",),
        "subscription": (
            "application",
            "automatic_tax.liability.account",
            "customer",
            "default_payment_method",
            "default_source",
            "invoice_settings.issuer.account",
            "latest_invoice",
            "on_behalf_of",
            "pending_setup_intent",
            "schedule",
            "test_clock",
            "transfer_data.destination",
        ),
        "subscription_item": (),
        "invoice": (
            "application",
            "customer",
            "default_payment_method",
            "default_source",
            "from_invoice.invoice",
            "issuer.account",
            "latest_revision",
            "on_behalf_of",
            "parent.subscription_details.subscription",
            "shipping_cost.shipping_rate",
            "test_clock",
        ),
        "line_item": ("pricing.price_details.price", "subscription"),
        "item": (),
        "checkout.session": (
            "customer",
            "invoice",
            "payment_intent",
            "payment_link",
            "setup_intent",
            "shipping_cost.shipping_rate",
            "subscription",
        ),
        "payment_intent": (
            "application",
            "customer",
            "latest_charge",
            "on_behalf_of",
            "payment_method",
            "review",
            "transfer_data.destination",
        ),
        "billing_portal.session": ("configuration",),
        "tax_id": ("customer", "owner.account", "owner.application", "owner.customer"),
        "webhook_endpoint": (),
        "event": (),
        "entitlements.feature": (),
        "product_feature": (),
    }.items()
}

#: Stripe's product tax codes the emulator names (any other `txcd_` id expands to a generic one).
TAX_CODES = {
    "txcd_00000000": "Nontaxable",
    "txcd_10000000": "General - Electronically Supplied Services",
    "txcd_10103001": "Software as a service (SaaS) - business use",
}


def _unstored(value: str) -> dict[str, Any] | None:
    """The object an expandable id names that the emulator does not store, or None.

    Tax codes are Stripe's fixed list, and payment methods are Stripe's test ids
    (`pm_card_visa`, `pm_card_chargeDeclined`): both expand to what Stripe answers for them.
    """
    if value.startswith("txcd_"):
        name = TAX_CODES.get(value, "Tax code")
        return {"id": value, "object": "tax_code", "description": name, "name": name}
    if value.startswith("pm_"):
        declines = "declined" in value.lower()
        return {
            "id": value,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card": {
                "brand": "visa",
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": None,
                "funding": "credit",
                "last4": "0002" if declines else "4242",
            },
            "created": 0,
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
    return None


def empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": url}


@includable("customer", "sources")
def _customer_sources(store: Store, customer: dict[str, Any]) -> Any:
    # Payment methods are modelled by test ids, never as legacy sources: always an empty list.
    return empty_list(f"/v1/customers/{customer['id']}/sources")


@includable("customer", "tax_ids")
def _customer_tax_ids(store: Store, customer: dict[str, Any]) -> Any:
    rows = [
        copy.deepcopy(t) for t in store.where("tax_id", lambda t: t["customer"] == customer["id"])
    ]
    return {
        "object": "list",
        "data": rows,
        "has_more": False,
        "url": f"/v1/customers/{customer['id']}/tax_ids",
    }


@includable("price", "currency_options")
def _price_currency_options(store: Store, price: dict[str, Any]) -> Any:
    # A price without extra currency options shows its own currency as the only option.
    return {
        price["currency"]: {
            "custom_unit_amount": copy.deepcopy(price.get("custom_unit_amount")),
            "tax_behavior": price.get("tax_behavior"),
            "unit_amount": price["unit_amount"],
            "unit_amount_decimal": price["unit_amount_decimal"],
        }
    }


@includable("price", "tiers")
def _price_tiers(store: Store, price: dict[str, Any]) -> Any:
    # Only tiered prices have tiers; the emulator creates `per_unit` prices only.
    return [] if price.get("billing_scheme") == "tiered" else ABSENT


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
        "meter": recurring.get("meter"),
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _expand(
    store: Store,
    node: Any,
    parts: list[str],
    full: str,
    owner: dict[str, Any],
    rel: tuple[str, ...],
) -> None:
    if not parts:
        return
    if isinstance(node, list):
        for element in node:
            _expand(store, element, parts, full, owner, rel)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("object"), str) and node["object"] != "list":
        owner, rel = node, ()
    head, rest = parts[0], parts[1:]
    kind, dotted = str(owner.get("object")), ".".join((*rel, head))
    expandable = EXPANDABLE.get(kind)
    if head not in node:
        compute = INCLUDABLE.get((kind, dotted))
        if compute is None:
            if expandable is not None and dotted in expandable:
                return  # a field this emulator leaves out: null, as an unset one is
            raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
        value = compute(store, owner)
        if value is ABSENT:
            return
        node[head] = value
    value = node[head]
    if (
        expandable is not None
        and not isinstance(value, (dict, list))
        and dotted not in expandable
        and (kind, dotted) not in INCLUDABLE
    ):
        # A plain value (`balance`, `email`), not an id: Stripe refuses it.
        raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
    if isinstance(value, str):
        target = store.find(value) or store.deleted.get(value)
        if target is None:
            target = _unstored(value)
        if target is None:
            raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
        node[head] = render(store, target)
        value = node[head]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        node[head] = [render(store, store.find(v) or {"id": v}) for v in value]
        value = node[head]
    if value is not None:
        _expand(store, value, rest, full, owner, (*rel, head))


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
