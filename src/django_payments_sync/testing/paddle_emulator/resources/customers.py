"""Customers, their addresses and businesses (Paddle's place for a B2B tax id), portal sessions."""

from __future__ import annotations

import copy
from typing import Any

from .. import validate as v
from ..errors import PaddleError
from ..notifications import emit
from ..store import paginate
from . import Call, Listed, route

_CUSTOMER = {
    "email": v.email,
    "name": v.nullable(v.string),
    "locale": v.string,
    "custom_data": v.custom_data,
    "status": v.STATUS,
}
_ADDRESS = {
    "description": v.nullable(v.string),
    "first_line": v.nullable(v.string),
    "second_line": v.nullable(v.string),
    "city": v.nullable(v.string),
    "postal_code": v.nullable(v.string),
    "region": v.nullable(v.string),
    "country_code": v.country,
    "custom_data": v.custom_data,
    "status": v.STATUS,
}
_CONTACT = v.obj({"name": v.nullable(v.string), "email": v.email}, ("email",))
_BUSINESS = {
    "name": v.text,
    "company_number": v.nullable(v.string),
    "tax_identifier": v.nullable(v.string),
    "contacts": v.listof(_CONTACT),
    "custom_data": v.custom_data,
    "status": v.STATUS,
}


def apply_update(call: Call, kind: str, entity: dict[str, Any], values: dict[str, Any]) -> None:
    """Write `values` into `entity`; on a change, move `updated_at` and emit `<kind>.updated`."""
    before = copy.deepcopy(entity)
    entity.update(values)
    if entity != before:
        entity["updated_at"] = call.store.now()
        emit(call.store, f"{kind}.updated", entity)


def listing(call: Call, rows: list[dict[str, Any]], *search: str) -> Listed:
    """Filter by `id`, `status` (by default `active` only, Paddle's default scope) and
    `search` (over the named fields), then paginate."""
    ids, statuses = call.filter("id"), call.filter("status") or {"active"}
    rows = [r for r in rows if (not ids or r["id"] in ids) and r.get("status") in statuses]
    term = call.query.get("search", "").lower()
    if term:
        rows = [r for r in rows if any(term in str(r.get(f) or "").lower() for f in search)]
    page, pagination = paginate(call.store, rows, call.path, call.query)
    return Listed(page, pagination)


# customers


@route("POST", "/customers")
def create_customer(call: Call) -> dict[str, Any]:
    values = v.fields(call.body, _CUSTOMER, ("email",))
    values.pop("status", None)
    _unique_email(call, values["email"])
    store, now = call.store, call.store.now()
    customer = {
        "id": store.new_id("ctm"),
        "status": "active",
        "custom_data": values.get("custom_data"),
        "name": values.get("name"),
        "email": values["email"],
        "marketing_consent": False,
        "locale": values.get("locale", "en"),
        "created_at": now,
        "updated_at": now,
        "import_meta": None,
    }
    store.add("customer", customer)
    emit(store, "customer.created", customer)
    return customer


def _unique_email(call: Call, email: str, own_id: str | None = None) -> None:
    for other in call.store.all("customer"):
        if other["email"].lower() == email.lower() and other["id"] != own_id:
            raise PaddleError(
                409,
                "customer_already_exists",
                f"customer email conflicts with customer of id {other['id']}",
            )


@route("GET", "/customers")
def list_customers(call: Call) -> Listed:
    rows = call.store.all("customer")
    emails = {e.lower() for e in call.filter("email")}
    if emails:
        rows = [r for r in rows if r["email"].lower() in emails]
    return listing(call, rows, "id", "name", "email")


@route("GET", "/customers/{id}")
def get_customer(call: Call) -> dict[str, Any]:
    return call.store.get("customer", call.args[0])


@route("PATCH", "/customers/{id}")
def update_customer(call: Call) -> dict[str, Any]:
    customer = call.store.get("customer", call.args[0])
    values = v.fields(call.body, _CUSTOMER)
    if "email" in values:
        _unique_email(call, values["email"], customer["id"])
    apply_update(call, "customer", customer, values)
    return customer


# addresses and businesses


def _owned(call: Call, kind: str) -> dict[str, Any]:
    customer = call.store.get("customer", call.args[0])
    entity = call.store.get(kind, call.args[1])
    if entity["customer_id"] != customer["id"]:
        raise PaddleError(404, "not_found", f"Entity {call.args[1]} not found")
    return entity


@route("POST", "/customers/{id}/addresses")
def create_address(call: Call) -> dict[str, Any]:
    customer = call.store.get("customer", call.args[0])
    values = v.fields(call.body, _ADDRESS, ("country_code",))
    values.pop("status", None)
    now = call.store.now()
    address = {
        "id": call.store.new_id("add"),
        "customer_id": customer["id"],
        "status": "active",
        **{k: values.get(k) for k in _ADDRESS if k != "status"},
        "created_at": now,
        "updated_at": now,
        "import_meta": None,
    }
    call.store.add("address", address)
    emit(call.store, "address.created", address)
    return address


@route("GET", "/customers/{id}/addresses")
def list_addresses(call: Call) -> Listed:
    customer = call.store.get("customer", call.args[0])
    rows = call.store.where("address", lambda a: a["customer_id"] == customer["id"])
    return listing(call, rows, "first_line", "city", "postal_code", "description")


@route("GET", "/customers/{id}/addresses/{address}")
def get_address(call: Call) -> dict[str, Any]:
    return _owned(call, "address")


@route("PATCH", "/customers/{id}/addresses/{address}")
def update_address(call: Call) -> dict[str, Any]:
    address = _owned(call, "address")
    apply_update(call, "address", address, v.fields(call.body, _ADDRESS))
    return address


@route("POST", "/customers/{id}/businesses")
def create_business(call: Call) -> dict[str, Any]:
    customer = call.store.get("customer", call.args[0])
    values = v.fields(call.body, _BUSINESS, ("name",))
    values.pop("status", None)
    now = call.store.now()
    business = {
        "id": call.store.new_id("biz"),
        "customer_id": customer["id"],
        "status": "active",
        "name": values["name"],
        "company_number": values.get("company_number"),
        "tax_identifier": values.get("tax_identifier"),
        "contacts": values.get("contacts", []),
        "custom_data": values.get("custom_data"),
        "created_at": now,
        "updated_at": now,
        "import_meta": None,
    }
    call.store.add("business", business)
    emit(call.store, "business.created", business)
    return business


@route("GET", "/customers/{id}/businesses")
def list_businesses(call: Call) -> Listed:
    customer = call.store.get("customer", call.args[0])
    rows = call.store.where("business", lambda b: b["customer_id"] == customer["id"])
    return listing(call, rows, "name", "tax_identifier", "company_number")


@route("GET", "/customers/{id}/businesses/{business}")
def get_business(call: Call) -> dict[str, Any]:
    return _owned(call, "business")


@route("PATCH", "/customers/{id}/businesses/{business}")
def update_business(call: Call) -> dict[str, Any]:
    business = _owned(call, "business")
    apply_update(call, "business", business, v.fields(call.body, _BUSINESS))
    return business


# customer portal sessions


@route("POST", "/customers/{id}/portal-sessions")
def create_portal_session(call: Call) -> dict[str, Any]:
    customer = call.store.get("customer", call.args[0])
    values = v.fields(call.body, {"subscription_ids": v.listof(v.id_of("sub"))})
    subscriptions = []
    for sub_id in values.get("subscription_ids", []):
        sub = call.store.get("subscription", sub_id)
        if sub["customer_id"] != customer["id"]:
            raise PaddleError(404, "not_found", f"Entity {sub_id} not found")
        subscriptions.append(sub)
    session_id = call.store.new_id("cpls")
    base = f"{call.store.base_url}/portal/{session_id}"
    session = {
        "id": session_id,
        "customer_id": customer["id"],
        "urls": {
            "general": {"overview": f"{base}?action=overview"},
            "subscriptions": [
                {
                    "id": sub["id"],
                    "cancel_subscription": f"{base}?action=cancel_subscription"
                    f"&subscription_id={sub['id']}",
                    "update_subscription_payment_method": f"{base}"
                    f"?action=update_subscription_payment_method&subscription_id={sub['id']}",
                }
                for sub in subscriptions
            ],
        },
        "created_at": call.store.now(),
    }
    call.store.add("portal_session", session)
    return session
