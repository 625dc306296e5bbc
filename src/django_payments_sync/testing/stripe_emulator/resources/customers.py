"""Account, customers and customer tax IDs."""

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
from . import Call, apply_metadata, empty_to_none, route

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


@route("GET", "/v1/accounts", "AccountListParams")
def list_accounts(call: Call) -> dict[str, Any]:
    # The emulated platform has no connected accounts.
    return paginate([], call.params, "/v1/accounts", call.store)


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


# top-level tax IDs (`/v1/tax_ids`): the customer's ones are the same objects


@route("GET", "/v1/tax_ids/{id}", "TaxIdRetrieveParams")
def retrieve_top_tax_id(call: Call) -> dict[str, Any]:
    (tax_id_id,) = call.args
    tax_id = call.store.find(tax_id_id)
    if tax_id is None or tax_id.get("object") != "tax_id":
        raise missing("tax_id", tax_id_id)
    return render(call.store, tax_id, call.expand)


@route("GET", "/v1/tax_ids", "TaxIdListParams")
def list_top_tax_ids(call: Call) -> dict[str, Any]:
    owner = call.params.get("owner") or {"type": "self"}
    kind = owner["type"]
    rows: list[dict[str, Any]] = []
    if kind == "customer":
        customer_id = owner.get("customer")
        if not customer_id:
            raise StripeError(
                400, "Missing required param: owner[customer].", param="owner[customer]"
            )
        customer = call.store.get("customer", customer_id)
        rows = call.store.where("tax_id", lambda t: t["customer"] == customer["id"])
    elif kind == "account":
        if not owner.get("account"):
            raise StripeError(
                400, "Missing required param: owner[account].", param="owner[account]"
            )
        raise missing("account", owner["account"])
    elif kind not in ("self", "application"):
        raise StripeError(
            400,
            "Invalid owner[type]: must be one of account, application, customer, or self.",
            param="owner[type]",
        )
    # The platform's own tax IDs (`self`, `application`) are not modelled: none.
    page = paginate(rows, call.params, "/v1/tax_ids", call.store)
    return render(call.store, page, call.expand)
