"""Products and prices (archived through their status, as Paddle does; never deleted)."""

from __future__ import annotations

import copy
from typing import Any

from .. import validate as v
from ..notifications import emit
from . import Call, Listed, route
from .customers import apply_update, listing

TAX_CATEGORIES = (
    "digital-goods",
    "ebooks",
    "implementation-services",
    "professional-services",
    "saas",
    "software-programming-services",
    "standard",
    "training-services",
    "website-hosting",
)
_PRODUCT = {
    "name": v.text,
    "tax_category": v.enum(*TAX_CATEGORIES),
    "description": v.nullable(v.string),
    "type": v.enum("standard", "custom"),
    "image_url": v.nullable(v.string),
    "custom_data": v.custom_data,
    "status": v.STATUS,
}
_OVERRIDE = v.obj(
    {"country_codes": v.listof(v.country), "unit_price": v.MONEY}, ("country_codes", "unit_price")
)
_TRIAL = v.obj(
    {
        "interval": v.INTERVAL,
        "frequency": v.positive,
        "requires_payment_method": v.boolean,
        "unit_price": v.nullable(v.MONEY),
        "unit_price_overrides": v.listof(_OVERRIDE),
    },
    ("interval", "frequency"),
)
_QUANTITY = v.obj({"minimum": v.positive, "maximum": v.positive}, ("minimum", "maximum"))
PRICE = {
    "product_id": v.id_of("pro"),
    "description": v.text,
    "name": v.nullable(v.string),
    "type": v.enum("standard", "custom"),
    "billing_cycle": v.nullable(v.DURATION),
    "trial_period": v.nullable(_TRIAL),
    "tax_mode": v.enum("account_setting", "external", "internal", "location"),
    "unit_price": v.MONEY,
    "unit_price_overrides": v.listof(_OVERRIDE),
    "quantity": _QUANTITY,
    "custom_data": v.custom_data,
    "status": v.STATUS,
}


# products


def new_product(call: Call, values: dict[str, Any], *, emit_event: bool = True) -> dict[str, Any]:
    now = call.store.now()
    product = {
        "id": call.store.new_id("pro"),
        "name": values["name"],
        "tax_category": values["tax_category"],
        "type": values.get("type", "standard"),
        "description": values.get("description"),
        "image_url": values.get("image_url"),
        "custom_data": values.get("custom_data"),
        "status": "active",
        "import_meta": None,
        "created_at": now,
        "updated_at": now,
    }
    call.store.add("product", product)
    if emit_event:
        emit(call.store, "product.created", product)
    return product


def _with_prices(call: Call, product: dict[str, Any]) -> dict[str, Any]:
    if "prices" not in call.includes():
        return product
    prices = call.store.where("price", lambda p: p["product_id"] == product["id"])
    return {**product, "prices": copy.deepcopy(prices)}


@route("POST", "/products")
def create_product(call: Call) -> dict[str, Any]:
    values = v.fields(call.body, _PRODUCT, ("name", "tax_category"))
    return new_product(call, values)


@route("GET", "/products")
def list_products(call: Call) -> Listed:
    rows = call.store.all("product")
    for name in ("tax_category", "type"):
        wanted = call.filter(name)
        if wanted:
            rows = [r for r in rows if r[name] in wanted]
    listed = listing(call, rows, "name", "description")
    listed.data = [_with_prices(call, p) for p in listed.data]
    return listed


@route("GET", "/products/{id}")
def get_product(call: Call) -> dict[str, Any]:
    return _with_prices(call, call.store.get("product", call.args[0]))


@route("PATCH", "/products/{id}")
def update_product(call: Call) -> dict[str, Any]:
    product = call.store.get("product", call.args[0])
    apply_update(call, "product", product, v.fields(call.body, _PRODUCT))
    return product


# prices


def new_price(call: Call, values: dict[str, Any], *, emit_event: bool = True) -> dict[str, Any]:
    now = call.store.now()
    trial = values.get("trial_period")
    if trial is not None:
        trial = {
            "interval": trial["interval"],
            "frequency": trial["frequency"],
            "requires_payment_method": trial.get("requires_payment_method", True),
            "unit_price": trial.get("unit_price"),
            "unit_price_overrides": trial.get("unit_price_overrides", []),
        }
    price = {
        "id": call.store.new_id("pri"),
        "product_id": values["product_id"],
        "type": values.get("type", "standard"),
        "description": values["description"],
        "name": values.get("name"),
        "billing_cycle": values.get("billing_cycle"),
        "trial_period": trial,
        "tax_mode": values.get("tax_mode", "account_setting"),
        "unit_price": values["unit_price"],
        "unit_price_overrides": values.get("unit_price_overrides", []),
        "custom_data": values.get("custom_data"),
        "status": "active",
        "quantity": values.get("quantity", {"minimum": 1, "maximum": 100}),
        "import_meta": None,
        "created_at": now,
        "updated_at": now,
    }
    call.store.add("price", price)
    if emit_event:
        emit(call.store, "price.created", price)
    return price


def _with_product(call: Call, price: dict[str, Any]) -> dict[str, Any]:
    if "product" not in call.includes():
        return price
    return {**price, "product": copy.deepcopy(call.store.get("product", price["product_id"]))}


@route("POST", "/prices")
def create_price(call: Call) -> dict[str, Any]:
    values = v.fields(call.body, PRICE, ("product_id", "description", "unit_price"))
    values.pop("status", None)
    call.store.get("product", values["product_id"])
    return new_price(call, values)


@route("GET", "/prices")
def list_prices(call: Call) -> Listed:
    rows = call.store.all("price")
    products = call.filter("product_id")
    if products:
        rows = [r for r in rows if r["product_id"] in products]
    recurring = call.query.get("recurring")
    if recurring in ("true", "false"):
        rows = [r for r in rows if (r["billing_cycle"] is not None) == (recurring == "true")]
    listed = listing(call, rows, "description", "name")
    listed.data = [_with_product(call, p) for p in listed.data]
    return listed


@route("GET", "/prices/{id}")
def get_price(call: Call) -> dict[str, Any]:
    return _with_product(call, call.store.get("price", call.args[0]))


@route("PATCH", "/prices/{id}")
def update_price(call: Call) -> dict[str, Any]:
    price = call.store.get("price", call.args[0])
    fields = {k: c for k, c in PRICE.items() if k != "product_id"}
    values = v.fields(call.body, fields)
    apply_update(call, "price", price, values)
    return price
