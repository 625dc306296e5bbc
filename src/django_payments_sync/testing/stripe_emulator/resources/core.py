"""Account, customers, customer tax IDs, products, prices and product features."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..billing import cancel_now
from ..errors import StripeError, missing
from ..events import emit
from ..fixtures import template
from ..render import render
from ..store import Store, created_filter, paginate
from . import Call, apply_metadata, empty_to_none, require, route

# account


@route("GET", "/v1/account", "AccountRetrieveCurrentParams")
def retrieve_account(call: Call) -> dict[str, Any]:
    account = template("account")
    account.update(
        {
            "id": call.store.account_id,
            "business_profile": {**account["business_profile"], "name": "Stripe emulator"},
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "country": "US",
            "default_currency": "usd",
            "email": "emulator@example.com",
            "created": call.store.now(),
            "metadata": {},
        }
    )
    account["external_accounts"]["url"] = f"/v1/accounts/{call.store.account_id}/external_accounts"
    # A ready test account: nothing due, nothing disabled.
    for key in ("currently_due", "eventually_due"):
        account["requirements"][key] = []
    account["requirements"]["disabled_reason"] = None
    return account


# customers

_CUSTOMER_FIELDS = ("name", "email", "description", "phone", "preferred_locales", "balance")


@route("POST", "/v1/customers", "CustomerCreateParams")
def create_customer(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    customer = template("customer")
    customer.update(
        {
            "id": store.new_id("cus_"),
            "address": None,
            "created": store.now(),
            "currency": None,
            "discount": None,
            "email": None,
            "invoice_prefix": p.get("invoice_prefix") or store.new_id("").upper()[:8],
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "metadata": {},
            "next_invoice_sequence": p.get("next_invoice_sequence", 1),
            "shipping": None,
        }
    )
    _apply_customer(store, customer, p)
    store.add("customer", customer)
    emit(store, "customer.created", customer)
    for datum in p.get("tax_id_data", []):
        _new_tax_id(store, customer["id"], datum["type"], datum["value"])
    return render(store, customer, call.expand)


def _apply_customer(store: Store, customer: dict[str, Any], p: dict[str, Any]) -> None:
    for name in _CUSTOMER_FIELDS:
        if name in p:
            customer[name] = empty_to_none(p[name])
    if "tax_exempt" in p:
        customer["tax_exempt"] = p["tax_exempt"] or "none"
    if "address" in p:
        customer["address"] = _address(p["address"])
    if "shipping" in p:
        shipping = p["shipping"]
        customer["shipping"] = (
            None
            if shipping == ""
            else {
                "address": _address(shipping.get("address", {})),
                "name": shipping.get("name"),
                "phone": shipping.get("phone"),
            }
        )
    if "invoice_settings" in p:
        settings = p["invoice_settings"]
        if "default_payment_method" in settings:
            customer["invoice_settings"]["default_payment_method"] = empty_to_none(
                settings["default_payment_method"]
            )
        if "footer" in settings:
            customer["invoice_settings"]["footer"] = empty_to_none(settings["footer"])
    if p.get("payment_method"):
        # Attaching a payment method at creation, as Stripe allows with `payment_method`.
        store.meta_for(customer["id"])["payment_method"] = p["payment_method"]
    apply_metadata(customer, p.get("metadata"))


def _address(value: Any) -> dict[str, Any] | None:
    if value in ("", None):
        return None
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {k: value.get(k) for k in keys}


@route("GET", "/v1/customers/{id}", "CustomerRetrieveParams")
def retrieve_customer(call: Call) -> dict[str, Any]:
    (customer_id,) = call.args
    gone = call.store.deleted.get(customer_id)
    if gone is not None and gone["object"] == "customer":
        return {"id": customer_id, "object": "customer", "deleted": True}
    return render(call.store, call.store.get("customer", customer_id), call.expand)


@route("POST", "/v1/customers/{id}", "CustomerUpdateParams")
def update_customer(call: Call) -> dict[str, Any]:
    store = call.store
    customer = store.get("customer", call.args[0])
    before = copy.deepcopy(customer)
    _apply_customer(store, customer, call.params)
    emit(store, "customer.updated", customer, before)
    return render(store, customer, call.expand)


@route("DELETE", "/v1/customers/{id}", "CustomerDeleteParams")
def delete_customer(call: Call) -> dict[str, Any]:
    store = call.store
    customer = store.get("customer", call.args[0])
    for sub in store.where("subscription", lambda s: s["customer"] == customer["id"]):
        if sub["status"] not in ("canceled", "incomplete_expired"):
            cancel_now(store, sub)
    store.remove("customer", customer["id"])
    emit(store, "customer.deleted", customer)
    return {"id": customer["id"], "object": "customer", "deleted": True}


@route("GET", "/v1/customers", "CustomerListParams")
def list_customers(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("customer")
    if "email" in p:
        rows = [c for c in rows if c["email"] == p["email"]]
    rows = created_filter(rows, p.get("created"))
    page = paginate(rows, p, "/v1/customers", call.store)
    return render(call.store, page, call.expand)


# customer tax IDs

_EU_VAT = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,13}$")


def _new_tax_id(store: Store, customer_id: str, kind: str, value: str) -> dict[str, Any]:
    value = value.replace(" ", "").upper() if kind == "eu_vat" else value
    if kind == "eu_vat" and not _EU_VAT.match(value):
        raise StripeError(400, f"Invalid value for {kind}.", param="value", code="tax_id_invalid")
    tax_id = template("tax_id")
    country = value[:2] if kind.startswith("eu_") else kind.split("_", 1)[0].upper()
    tax_id.update(
        {
            "id": store.new_id("txi_"),
            "country": {"EL": "GR", "XI": "GB"}.get(country, country),
            "created": store.now(),
            "customer": customer_id,
            "owner": {"customer": customer_id, "type": "customer", "customer_account": None},
            "type": kind,
            "value": value,
            "verification": (
                {"status": "pending", "verified_address": None, "verified_name": None}
                if kind in ("eu_vat", "gb_vat", "au_abn")
                else None
            ),
        }
    )
    store.add("tax_id", tax_id)
    emit(store, "customer.tax_id.created", tax_id)
    return tax_id


def _verify(store: Store, tax_id: dict[str, Any]) -> None:
    # Stripe checks VAT numbers asynchronously and reports the outcome in an update event.
    # Test convention: numbers ending in 000000000 are unverified, in 111111111 unavailable.
    if tax_id["verification"] is None:
        return
    before = copy.deepcopy(tax_id)
    value = tax_id["value"]
    status = "verified"
    if value.endswith("000000000"):
        status = "unverified"
    elif value.endswith("111111111"):
        status = "unavailable"
    tax_id["verification"] = {
        "status": status,
        "verified_address": "Emulated Street 1, 00000 City" if status == "verified" else None,
        "verified_name": "Emulated Business" if status == "verified" else None,
    }
    emit(store, "customer.tax_id.updated", tax_id, before)


@route("POST", "/v1/customers/{id}/tax_ids", "CustomerTaxIdCreateParams")
def create_tax_id(call: Call) -> dict[str, Any]:
    store = call.store
    customer = store.get("customer", call.args[0])
    tax_id = _new_tax_id(store, customer["id"], call.params["type"], call.params["value"])
    response = render(store, tax_id, call.expand)
    _verify(store, tax_id)
    return response


@route("GET", "/v1/customers/{id}/tax_ids", "CustomerTaxIdListParams")
def list_tax_ids(call: Call) -> dict[str, Any]:
    customer = call.store.get("customer", call.args[0])
    rows = call.store.where("tax_id", lambda t: t["customer"] == customer["id"])
    page = paginate(rows, call.params, f"/v1/customers/{customer['id']}/tax_ids", call.store)
    return render(call.store, page, call.expand)


def _tax_id_of(call: Call) -> dict[str, Any]:
    customer_id, tax_id_id = call.args
    call.store.get("customer", customer_id)
    tax_id = call.store.find(tax_id_id)
    if tax_id is None or tax_id.get("object") != "tax_id" or tax_id["customer"] != customer_id:
        raise missing("tax_id", tax_id_id)
    return tax_id


@route("GET", "/v1/customers/{id}/tax_ids/{tax_id}", "CustomerTaxIdRetrieveParams")
def retrieve_tax_id(call: Call) -> dict[str, Any]:
    return render(call.store, _tax_id_of(call), call.expand)


@route("DELETE", "/v1/customers/{id}/tax_ids/{tax_id}", "CustomerTaxIdDeleteParams")
def delete_tax_id(call: Call) -> dict[str, Any]:
    tax_id = _tax_id_of(call)
    call.store.remove("tax_id", tax_id["id"])
    emit(call.store, "customer.tax_id.deleted", tax_id)
    return {"id": tax_id["id"], "object": "tax_id", "deleted": True}


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
