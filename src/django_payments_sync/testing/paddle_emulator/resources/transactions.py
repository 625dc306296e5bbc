"""Transactions: created with items (and a customer) they carry a `checkout.url` to pay at."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .. import validate as v
from ..billing import bill_manual, is_ready, new_transaction
from ..errors import PaddleError, invalid
from ..money import fill_details, item_of
from ..notifications import emit
from ..store import paginate
from . import Call, Listed, route
from .catalog import PRICE, TAX_CATEGORIES, new_price, new_product

_PRODUCT_INLINE = v.obj(
    {
        "name": v.text,
        "tax_category": v.enum(*TAX_CATEGORIES),
        "description": v.nullable(v.string),
        "image_url": v.nullable(v.string),
        "custom_data": v.custom_data,
    },
    ("name", "tax_category"),
)
_PRICE_INLINE = v.obj(
    {**{k: c for k, c in PRICE.items() if k != "status"}, "product": _PRODUCT_INLINE},
    ("description", "unit_price"),
)
_ITEM = v.obj({"price_id": v.id_of("pri"), "price": _PRICE_INLINE, "quantity": v.positive})
_BILLING_DETAILS = v.obj(
    {
        "enable_checkout": v.boolean,
        "payment_terms": v.DURATION,
        "purchase_order_number": v.nullable(v.string),
        "additional_information": v.nullable(v.string),
    },
    ("payment_terms",),
)
_PERIOD = v.obj({"starts_at": v.timestamp, "ends_at": v.timestamp}, ("starts_at", "ends_at"))
_TRANSACTION = {
    "items": v.listof(_ITEM),
    "status": v.enum("billed", "canceled"),
    "customer_id": v.nullable(v.id_of("ctm")),
    "address_id": v.nullable(v.id_of("add")),
    "business_id": v.nullable(v.id_of("biz")),
    "custom_data": v.custom_data,
    "currency_code": v.currency,
    "collection_mode": v.enum("automatic", "manual"),
    "discount_id": v.nullable(v.id_of("dsc")),
    "billing_details": v.nullable(_BILLING_DETAILS),
    "billing_period": v.nullable(_PERIOD),
    "checkout": v.nullable(v.obj({"url": v.nullable(v.string)})),
}


def _items(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        raise invalid("items", "must contain at least one item")
    items = []
    for index, row in enumerate(rows):
        quantity = row.get("quantity", 1)
        if "price_id" in row:
            price = call.store.get("price", row["price_id"])
            if price["status"] != "active":
                raise PaddleError(
                    400,
                    "transaction_price_not_active",
                    f"price {price['id']} is archived and cannot be billed",
                    errors=[{"field": f"items[{index}].price_id", "message": "is archived"}],
                )
        elif "price" in row:
            price = _non_catalog_price(call, row["price"])
        else:
            raise invalid(f"items[{index}]", "needs a price_id or a price")
        bounds = price["quantity"]
        if not bounds["minimum"] <= quantity <= bounds["maximum"]:
            raise invalid(
                f"items[{index}].quantity",
                f"must be between {bounds['minimum']} and {bounds['maximum']}",
            )
        items.append(item_of(call.store, price, quantity))
    return items


def _non_catalog_price(call: Call, given: dict[str, Any]) -> dict[str, Any]:
    values = dict(given)
    product = values.pop("product", None)
    if product is not None:
        values["product_id"] = new_product(call, {**product, "type": "custom"}, emit_event=False)[
            "id"
        ]
    elif "product_id" in values:
        call.store.get("product", values["product_id"])
    else:
        raise invalid("items.price", "needs a product_id or a product")
    return new_price(call, {**values, "type": "custom"}, emit_event=False)


def _owner(call: Call, values: dict[str, Any]) -> None:
    customer_id = values.get("customer_id")
    if customer_id:
        call.store.get("customer", customer_id)
    for field, kind in (("address_id", "address"), ("business_id", "business")):
        entity_id = values.get(field)
        if not entity_id:
            continue
        entity = call.store.get(kind, entity_id)
        if entity["customer_id"] != customer_id:
            raise invalid(field, f"{kind} does not belong to the transaction's customer")
    if values.get("discount_id"):
        call.store.get("discount", values["discount_id"])


def checkout_url(store: Any, txn: dict[str, Any], return_url: str | None) -> str:
    """The emulator's hosted checkout for `txn`; `return_url` is where the buyer lands after."""
    query = {"_ptxn": txn["id"]}
    if return_url:
        query["return_url"] = return_url
    return f"{store.base_url}/checkout/{txn['id']}?{urlencode(query)}"


@route("POST", "/transactions")
def create_transaction(call: Call) -> dict[str, Any]:
    values = v.fields(call.body, _TRANSACTION, ("items",))
    _owner(call, values)
    items = _items(call, values["items"])
    currency = values.get("currency_code") or items[0]["price"]["unit_price"]["currency_code"]
    manual = values.get("collection_mode") == "manual"
    if manual and not (values.get("customer_id") and values.get("address_id")):
        raise invalid("customer_id", "manual collection needs a customer and an address")
    if manual and not values.get("billing_details"):
        raise invalid("billing_details", "is required for manual collection")
    txn = new_transaction(
        call.store,
        items=items,
        customer_id=values.get("customer_id"),
        address_id=values.get("address_id"),
        business_id=values.get("business_id"),
        currency_code=currency,
        origin="api",
        collection_mode=values.get("collection_mode", "automatic"),
        custom_data=values.get("custom_data"),
        billing_details=values.get("billing_details"),
        billing_period=values.get("billing_period"),
        discount_id=values.get("discount_id"),
    )
    if not manual or (values.get("billing_details") or {}).get("enable_checkout"):
        given = (values.get("checkout") or {}).get("url")
        txn["checkout"] = {"url": checkout_url(call.store, txn, given)}
    emit(call.store, "transaction.created", txn)
    if values.get("status") == "billed" and is_ready(txn):
        bill_manual(call.store, txn)
    elif is_ready(txn):
        txn["status"] = "ready"
        emit(call.store, "transaction.ready", txn)
    return _with_includes(call, txn)


def _with_includes(call: Call, txn: dict[str, Any]) -> dict[str, Any]:
    includes = call.includes()
    out = dict(txn)
    for name in ("customer", "address", "business"):
        if name in includes and txn.get(f"{name}_id"):
            out[name] = call.store.find(txn[f"{name}_id"])
    return out


@route("GET", "/transactions")
def list_transactions(call: Call) -> Listed:
    rows = call.store.all("transaction")
    for name in ("status", "customer_id", "subscription_id", "id", "origin", "collection_mode"):
        wanted = call.filter(name)
        if wanted:
            rows = [r for r in rows if r.get(name) in wanted]
    page, pagination = paginate(call.store, rows, call.path, call.query)
    return Listed([_with_includes(call, t) for t in page], pagination)


@route("GET", "/transactions/{id}")
def get_transaction(call: Call) -> dict[str, Any]:
    return _with_includes(call, call.store.get("transaction", call.args[0]))


@route("PATCH", "/transactions/{id}")
def update_transaction(call: Call) -> dict[str, Any]:
    txn = call.store.get("transaction", call.args[0])
    if txn["status"] not in ("draft", "ready"):
        raise PaddleError(
            400,
            "transaction_immutable",
            f"transaction {txn['id']} is {txn['status']} and can no longer be changed",
        )
    values = v.fields(call.body, _TRANSACTION)
    merged = {**txn, **values}
    _owner(call, merged)
    if "items" in values:
        txn["items"] = _items(call, values.pop("items"))
    checkout = values.pop("checkout", None)
    txn.update(values)
    if checkout and checkout.get("url"):
        txn["checkout"] = {"url": checkout_url(call.store, txn, checkout["url"])}
    fill_details(call.store, txn)
    txn["updated_at"] = call.store.now()
    was_ready = txn["status"] == "ready"
    if values.get("status") == "canceled":
        txn["status"] = "canceled"
        emit(call.store, "transaction.canceled", txn)
        return txn
    if values.get("status") == "billed":
        if not is_ready(txn):
            raise invalid("status", "a transaction needs a customer and an address to be billed")
        bill_manual(call.store, txn)
        return _with_includes(call, txn)
    txn["status"] = "ready" if is_ready(txn) else "draft"
    emit(call.store, "transaction.updated", txn)
    if txn["status"] == "ready" and not was_ready:
        emit(call.store, "transaction.ready", txn)
    return _with_includes(call, txn)
