"""Products, prices, entitlement features and product features."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import StripeError, missing
from ..events import emit
from ..fixtures import template
from ..render import render
from ..store import Store, created_filter, paginate
from . import Call, apply_metadata, empty_to_none, require, route

# products


@route("POST", "/v1/products", "ProductCreateParams")
def create_product(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    product_id = p.get("id") or store.new_id("prod_")
    if store.find(product_id) is not None:
        raise StripeError(
            400, f"Product already exists: {product_id}", param="id", code="resource_already_exists"
        )
    product = template("product")
    now = store.now()
    product.update(
        {
            "id": product_id,
            "active": p.get("active", True),
            "created": now,
            "updated": now,
            "default_price": None,
            "description": p.get("description"),
            "images": p.get("images", []),
            "marketing_features": [{"name": f["name"]} for f in p.get("marketing_features", [])],
            "metadata": {},
            "name": require(p, "name"),
            "package_dimensions": None,
            "shippable": p.get("shippable"),
            "statement_descriptor": p.get("statement_descriptor"),
            "tax_code": p.get("tax_code"),
            "type": "service",
            "unit_label": p.get("unit_label"),
            "url": p.get("url"),
        }
    )
    apply_metadata(product, p.get("metadata"))
    store.add("product", product)
    emit(store, "product.created", product)
    if "default_price_data" in p:
        price = new_price(store, {**p["default_price_data"], "product": product_id})
        before = copy.deepcopy(product)
        product["default_price"] = price["id"]
        emit(store, "product.updated", product, before)
    return render(store, product, call.expand)


@route("GET", "/v1/products/{id}", "ProductRetrieveParams")
def retrieve_product(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("product", call.args[0]), call.expand)


@route("POST", "/v1/products/{id}", "ProductUpdateParams")
def update_product(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    product = store.get("product", call.args[0])
    before = copy.deepcopy(product)
    for name in ("active", "name", "shippable", "statement_descriptor", "unit_label"):
        if name in p:
            product[name] = p[name]
    for name in ("description", "url", "tax_code", "images"):
        if name in p:
            product[name] = empty_to_none(p[name])
    if "default_price" in p:
        if p["default_price"]:
            store.get("price", p["default_price"])
        product["default_price"] = empty_to_none(p["default_price"])
    if "marketing_features" in p:
        features = p["marketing_features"]
        product["marketing_features"] = [{"name": f["name"]} for f in features or []]
    apply_metadata(product, p.get("metadata"))
    if product != before:
        product["updated"] = store.now()
    emit(store, "product.updated", product, before)
    return render(store, product, call.expand)


@route("DELETE", "/v1/products/{id}", "ProductDeleteParams")
def delete_product(call: Call) -> dict[str, Any]:
    store = call.store
    product = store.get("product", call.args[0])
    if store.where("price", lambda pr: pr["product"] == product["id"]):
        raise StripeError(
            400,
            "This product cannot be deleted because it has one or more user-created prices.",
        )
    store.remove("product", product["id"])
    emit(store, "product.deleted", product)
    return {"id": product["id"], "object": "product", "deleted": True}


@route("GET", "/v1/products", "ProductListParams")
def list_products(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("product")
    if "active" in p:
        rows = [r for r in rows if r["active"] == p["active"]]
    if "ids" in p:
        rows = [r for r in rows if r["id"] in p["ids"]]
    if "shippable" in p:
        rows = [r for r in rows if r["shippable"] == p["shippable"]]
    rows = created_filter(rows, p.get("created"))
    return render(call.store, paginate(rows, p, "/v1/products", call.store), call.expand)


# prices


def new_price(store: Store, p: dict[str, Any]) -> dict[str, Any]:
    if "product" in p:
        product = store.get("product", p["product"], label="product")
    elif "product_data" in p:
        data = p["product_data"]
        product = template("product")
        now = store.now()
        product.update(
            {
                "id": data.get("id") or store.new_id("prod_"),
                "active": data.get("active", True),
                "created": now,
                "updated": now,
                "default_price": None,
                "description": None,
                "images": [],
                "marketing_features": [],
                "metadata": dict(data.get("metadata") or {}),
                "name": data["name"],
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": data.get("statement_descriptor"),
                "tax_code": data.get("tax_code"),
                "type": "service",
                "unit_label": data.get("unit_label"),
                "url": None,
            }
        )
        store.add("product", product)
        emit(store, "product.created", product)
    else:
        raise StripeError(400, "Missing required param: product.", param="product")
    if "unit_amount" in p:
        amount = p["unit_amount"]
    elif "unit_amount_decimal" in p:
        amount = round(float(p["unit_amount_decimal"]))
    else:
        raise StripeError(400, "Missing required param: unit_amount.", param="unit_amount")
    recurring = p.get("recurring")
    if recurring:
        _check_usage_type(store, recurring)
    price = template("price")
    price.update(
        {
            "id": store.new_id("price_"),
            "active": p.get("active", True),
            "created": store.now(),
            "currency": require(p, "currency").lower(),
            "custom_unit_amount": None,
            "lookup_key": p.get("lookup_key"),
            "metadata": dict(p.get("metadata") or {}),
            "nickname": p.get("nickname"),
            "product": product["id"],
            "recurring": (
                {
                    "interval": recurring["interval"],
                    "interval_count": recurring.get("interval_count", 1),
                    "meter": recurring.get("meter"),
                    "trial_period_days": recurring.get("trial_period_days"),
                    "usage_type": recurring.get("usage_type", "licensed"),
                }
                if recurring
                else None
            ),
            "tax_behavior": p.get("tax_behavior", "unspecified"),
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": amount,
            "unit_amount_decimal": str(p.get("unit_amount_decimal", amount)),
        }
    )
    if price["lookup_key"] and p.get("transfer_lookup_key"):
        for other in store.where("price", lambda o: o["lookup_key"] == price["lookup_key"]):
            other["lookup_key"] = None
    store.add("price", price)
    emit(store, "price.created", price)
    return price


def _check_usage_type(store: Store, recurring: dict[str, Any]) -> None:
    """A metered price names an active billing meter; a licensed one names none."""
    usage_type = recurring.get("usage_type", "licensed")
    if usage_type not in ("licensed", "metered"):
        raise StripeError(
            400,
            f"Invalid recurring[usage_type]: must be one of licensed or metered, not {usage_type}.",
            param="recurring[usage_type]",
        )
    meter_id = recurring.get("meter")
    if usage_type == "licensed":
        if meter_id:
            raise StripeError(
                400,
                "recurring[meter] can only be set when recurring[usage_type] is `metered`.",
                param="recurring[meter]",
            )
        return
    if not meter_id:
        raise StripeError(
            400,
            "A metered price must be backed by a meter: set recurring[meter].",
            param="recurring[meter]",
        )
    meter = store.find(meter_id)
    if meter is None or meter.get("object") != "billing.meter":
        raise missing("billing.meter", meter_id, param="recurring[meter]")
    if meter["status"] != "active":
        raise StripeError(400, f"The meter {meter_id} is inactive.", param="recurring[meter]")


@route("POST", "/v1/prices", "PriceCreateParams")
def create_price(call: Call) -> dict[str, Any]:
    return render(call.store, new_price(call.store, call.params), call.expand)


@route("GET", "/v1/prices/{id}", "PriceRetrieveParams")
def retrieve_price(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("price", call.args[0]), call.expand)


@route("POST", "/v1/prices/{id}", "PriceUpdateParams")
def update_price(call: Call) -> dict[str, Any]:
    # Amounts are not in PriceUpdateParams, so validation already refuses them as Stripe does.
    store, p = call.store, call.params
    price = store.get("price", call.args[0])
    before = copy.deepcopy(price)
    for name in ("active", "tax_behavior"):
        if name in p:
            price[name] = p[name]
    for name in ("nickname", "lookup_key"):
        if name in p:
            price[name] = empty_to_none(p[name])
    apply_metadata(price, p.get("metadata"))
    emit(store, "price.updated", price, before)
    return render(store, price, call.expand)


@route("GET", "/v1/prices", "PriceListParams")
def list_prices(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("price")
    if "product" in p:
        rows = [r for r in rows if r["product"] == p["product"]]
    if "active" in p:
        rows = [r for r in rows if r["active"] == p["active"]]
    if "type" in p:
        rows = [r for r in rows if r["type"] == p["type"]]
    if "currency" in p:
        rows = [r for r in rows if r["currency"] == p["currency"].lower()]
    if "lookup_keys" in p:
        rows = [r for r in rows if r["lookup_key"] in p["lookup_keys"]]
    if "recurring" in p and "interval" in p["recurring"]:
        wanted = p["recurring"]["interval"]
        rows = [r for r in rows if r["recurring"] and r["recurring"]["interval"] == wanted]
    rows = created_filter(rows, p.get("created"))
    return render(call.store, paginate(rows, p, "/v1/prices", call.store), call.expand)


# entitlement features and product features


@route("POST", "/v1/entitlements/features", "entitlements.FeatureCreateParams")
def create_feature(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    if store.where("entitlements.feature", lambda f: f["lookup_key"] == p["lookup_key"]):
        raise StripeError(
            400,
            f"A feature with lookup_key {p['lookup_key']} already exists.",
            param="lookup_key",
        )
    feature = template("entitlements.feature")
    feature.update(
        {
            "id": store.new_id("feat_"),
            "active": True,
            "livemode": False,
            "lookup_key": p["lookup_key"],
            "metadata": dict(p.get("metadata") or {}),
            "name": p["name"],
        }
    )
    feature["created"] = store.now()
    store.add("entitlements.feature", feature)
    return render(store, _public_feature(feature), call.expand)


def _public_feature(feature: dict[str, Any]) -> dict[str, Any]:
    # `created` is kept only to order the list; Stripe's feature object has no such field.
    return {k: v for k, v in feature.items() if k != "created"}


@route("GET", "/v1/entitlements/features", "entitlements.FeatureListParams")
def list_features(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("entitlements.feature")
    if "lookup_key" in p:
        rows = [r for r in rows if r["lookup_key"] == p["lookup_key"]]
    if "archived" in p:
        rows = [r for r in rows if r["active"] != p["archived"]]
    page = paginate(rows, p, "/v1/entitlements/features", call.store)
    page["data"] = [_public_feature(f) for f in page["data"]]
    return page


@route("POST", "/v1/products/{id}/features", "ProductFeatureCreateParams")
def create_product_feature(call: Call) -> dict[str, Any]:
    store = call.store
    product = store.get("product", call.args[0])
    feature = store.get("entitlements.feature", call.params["entitlement_feature"], label="feature")
    attached = template("product_feature")
    attached.update(
        {
            "id": store.new_id("prodft_"),
            "entitlement_feature": _public_feature(copy.deepcopy(feature)),
            "livemode": False,
        }
    )
    store.add("product_feature", attached)
    store.meta_for(attached["id"])["product"] = product["id"]
    return render(store, attached, call.expand)


def _features_of(store: Store, product_id: str) -> list[dict[str, Any]]:
    return store.where(
        "product_feature", lambda f: store.meta_for(f["id"]).get("product") == product_id
    )


@route("GET", "/v1/products/{id}/features", "ProductFeatureListParams")
def list_product_features(call: Call) -> dict[str, Any]:
    product = call.store.get("product", call.args[0])
    rows = _features_of(call.store, product["id"])
    url = f"/v1/products/{product['id']}/features"
    return render(call.store, paginate(rows, call.params, url, call.store), call.expand)


@route("DELETE", "/v1/products/{id}/features/{feature}", "ProductFeatureDeleteParams")
def delete_product_feature(call: Call) -> dict[str, Any]:
    product_id, feature_id = call.args
    call.store.get("product", product_id)
    if feature_id not in {f["id"] for f in _features_of(call.store, product_id)}:
        raise missing("product_feature", feature_id)
    call.store.remove("product_feature", feature_id)
    return {"id": feature_id, "object": "product_feature", "deleted": True}
