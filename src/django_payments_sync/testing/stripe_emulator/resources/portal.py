"""Billing portal sessions, and what the portal's hosted page does."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import StripeError
from ..events import emit
from ..fixtures import template
from ..invoicing import (
    attempt_payment,
    declines,
    payment_method_for,
)
from ..render import render
from ..store import Store
from . import Call, route
from .subscriptions import _change_items


@route("POST", "/v1/billing_portal/sessions", "billing_portal.SessionCreateParams")
def create_portal_session(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    if not p.get("customer"):
        # The SDK's types make it optional (a v2 customer account may stand in): Stripe does not.
        raise StripeError(400, "Missing required param: customer.", param="customer")
    customer = store.get("customer", p["customer"])
    session_id = store.new_id("bps_")
    portal = template("billing_portal.session")
    portal.update(
        {
            "id": session_id,
            "configuration": p.get("configuration") or "bpc_" + store.account_id[5:],
            "created": store.now(),
            "customer": customer["id"],
            "flow": None,
            "livemode": False,
            "locale": p.get("locale"),
            "on_behalf_of": p.get("on_behalf_of"),
            "return_url": p.get("return_url"),
            "url": f"{store.base_url}/p/session/{session_id}",
        }
    )
    store.add("billing_portal.session", portal)
    return render(store, portal, call.expand)


def portal_cancel(store: Store, sub: dict[str, Any]) -> None:
    """The portal's cancel button: cancel at the end of the period (its default mode)."""
    before = copy.deepcopy(sub)
    sub["cancel_at_period_end"] = True
    sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"]
    sub["canceled_at"] = store.now()
    sub["cancellation_details"] = {
        **sub["cancellation_details"],
        "reason": "cancellation_requested",
    }
    emit(store, "customer.subscription.updated", sub, before)


def portal_renew(store: Store, sub: dict[str, Any]) -> None:
    """The portal's 'renew' button undoes a pending cancellation."""
    before = copy.deepcopy(sub)
    sub["cancel_at_period_end"] = False
    sub["cancel_at"] = None
    sub["canceled_at"] = None
    sub["cancellation_details"] = {**sub["cancellation_details"], "reason": None}
    emit(store, "customer.subscription.updated", sub, before)


def portal_payment_method(store: Store, customer_id: str, payment_method: str) -> None:
    """The portal's payment method update: the customer's default, then open invoices retried.

    Subscriptions without their own default payment method bill the customer's default, so a
    past-due subscription recovers when its open invoice is paid with the new card.
    """
    customer = store.get("customer", customer_id)
    before = copy.deepcopy(customer)
    customer["invoice_settings"]["default_payment_method"] = payment_method
    emit(store, "customer.updated", customer, before)
    for sub in store.where("subscription", lambda s: s["customer"] == customer_id):
        if sub["status"] not in ("past_due", "unpaid", "incomplete") or not sub["latest_invoice"]:
            continue
        invoice = store.get("invoice", sub["latest_invoice"])
        pm = payment_method_for(store, sub, customer_id)
        if invoice["status"] != "open" or declines(pm):
            continue
        attempt_payment(store, invoice, pm)
        previous = copy.deepcopy(sub)
        sub["status"] = "active"
        emit(store, "customer.subscription.updated", sub, previous)


def portal_switch(store: Store, sub: dict[str, Any], price_id: str) -> None:
    """The portal's plan switch: one item moves to another price, prorated."""
    store.get("price", price_id)
    before = copy.deepcopy(sub)
    item = sub["items"]["data"][0]
    _change_items(store, sub, [{"id": item["id"], "price": price_id}], "create_prorations")
    emit(store, "customer.subscription.updated", sub, before)
