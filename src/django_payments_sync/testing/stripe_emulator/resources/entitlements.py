"""A customer's active entitlements: the features of the products they subscribe to.

Stripe grants a customer the entitlement features of every product on their subscriptions
that give access (``active``, ``trialing``, ``past_due``) and sends
``entitlements.active_entitlement_summary.updated`` whenever that set changes;
:func:`refresh_active_entitlements` runs after every subscription event (see ``events.emit``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import missing
from ..render import render
from . import Call, require, route
from .catalog import _features_of, _public_feature

if TYPE_CHECKING:
    from ..store import Store

#: Subscription statuses under which Stripe keeps a customer's entitlements.
ENTITLING_STATUSES = ("active", "trialing", "past_due")
SUMMARY_EVENT = "entitlements.active_entitlement_summary.updated"


@route("GET", "/v1/entitlements/features/{id}", "entitlements.FeatureRetrieveParams")
def retrieve_feature(call: Call) -> dict[str, Any]:
    feature = call.store.get("entitlements.feature", call.args[0], label="feature")
    return render(call.store, _public_feature(feature), call.expand)


@route("GET", "/v1/products/{id}/features/{feature}", "ProductFeatureRetrieveParams")
def retrieve_product_feature(call: Call) -> dict[str, Any]:
    product_id, feature_id = call.args
    call.store.get("product", product_id)
    for attached in _features_of(call.store, product_id):
        if attached["id"] == feature_id:
            return render(call.store, attached, call.expand)
    raise missing("product_feature", feature_id)


def active_features(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """The features ``customer_id`` is entitled to now, each once, in lookup key order."""
    found: dict[str, dict[str, Any]] = {}
    for sub in store.where("subscription", lambda s: s["customer"] == customer_id):
        if sub["status"] not in ENTITLING_STATUSES:
            continue
        for item in sub["items"]["data"]:
            price = item["price"]
            price = store.find(price) if isinstance(price, str) else price
            product = price["product"] if price else None
            product_id = product if isinstance(product, str) else (product or {}).get("id")
            for attached in _features_of(store, str(product_id)):
                feature = attached["entitlement_feature"]
                found[feature["lookup_key"]] = feature
    return [found[key] for key in sorted(found)]


def _active_entitlement(customer_id: str, feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"ent_{customer_id[4:]}_{feature['id'][5:]}",
        "object": "entitlements.active_entitlement",
        "feature": feature["id"],
        "livemode": False,
        "lookup_key": feature["lookup_key"],
    }


@route("GET", "/v1/entitlements/active_entitlements", "entitlements.ActiveEntitlementListParams")
def list_active_entitlements(call: Call) -> dict[str, Any]:
    customer_id = require(call.params, "customer")
    call.store.get("customer", customer_id)
    rows = [_active_entitlement(customer_id, f) for f in active_features(call.store, customer_id)]
    return {
        "object": "list",
        "data": rows,
        "has_more": False,
        "url": "/v1/entitlements/active_entitlements",
    }


def refresh_active_entitlements(store: Store, customer_id: str) -> None:
    """Send the summary event when ``customer_id``'s active entitlements changed."""
    from ..events import emit

    if store.find(customer_id) is None:
        return
    features = active_features(store, customer_id)
    keys = [f["lookup_key"] for f in features]
    meta = store.meta_for(customer_id)
    if meta.get("active_entitlements", []) == keys:
        return
    meta["active_entitlements"] = keys
    rows = [_active_entitlement(customer_id, f) for f in features]
    summary = {
        "object": "entitlements.active_entitlement_summary",
        "customer": customer_id,
        "entitlements": {
            "object": "list",
            "data": rows,
            "has_more": False,
            "url": "/v1/entitlements/active_entitlements",
        },
        "livemode": False,
    }
    emit(store, SUMMARY_EVENT, summary)
