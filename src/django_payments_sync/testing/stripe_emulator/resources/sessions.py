"""Checkout sessions and what their hosted page does (the portal is :mod:`.portal`)."""

from __future__ import annotations

import copy
from typing import Any

from ..billing import create_subscription, is_metered
from ..errors import StripeError
from ..events import emit
from ..fixtures import template
from ..invoicing import (
    DAY,
    attempt_payment,
    declines,
    finalize,
    line_for,
    new_invoice,
)
from ..render import includable, render
from ..store import Store, created_filter, paginate
from . import Call, route
from .catalog import new_price

CARD_OK = "pm_card_visa"
CARD_DECLINED = "pm_card_chargeDeclined"


@route("POST", "/v1/checkout/sessions", "checkout.SessionCreateParams")
def create_session(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    mode = p.get("mode")
    if mode not in ("payment", "subscription"):
        raise StripeError(
            400,
            "The emulator supports Checkout in `payment` and `subscription` modes only.",
            param="mode",
        )
    if "customer" in p and "customer_email" in p:
        raise StripeError(
            400,
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if "customer" in p:
        store.get("customer", p["customer"])
    lines = []
    for index, entry in enumerate(p.get("line_items", [])):
        if "price" in entry:
            price = store.get("price", entry["price"])
        elif "price_data" in entry:
            price = new_price(store, entry["price_data"])
        else:
            raise StripeError(
                400,
                f"Missing required param: line_items[{index}][price].",
                param=f"line_items[{index}][price]",
            )
        if mode == "payment" and price["type"] == "recurring":
            raise StripeError(
                400,
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices. In `payment` mode, only one-time prices are accepted.",
                param=f"line_items[{index}]",
            )
        if is_metered(price):
            from .subscriptions import refuse_metered_quantity

            refuse_metered_quantity(entry, f"line_items[{index}]")
            lines.append((price, None))
        else:
            lines.append((price, entry.get("quantity", 1)))
    if not lines:
        raise StripeError(400, "Missing required param: line_items.", param="line_items")
    if mode == "subscription" and not any(pr["type"] == "recurring" for pr, _ in lines):
        raise StripeError(
            400,
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            param="line_items",
        )
    now = store.now()
    subtotal = sum(pr["unit_amount"] * (q or 0) for pr, q in lines)
    promotion_code, discount = _discount(store, p, [pr["product"] for pr, _ in lines], subtotal)
    total = subtotal - discount
    session_id = store.new_id("cs_test_")
    session = template("checkout.session")
    invoice_creation = None
    if mode == "payment":
        enabled = bool(p.get("invoice_creation", {}).get("enabled", False))
        invoice_creation = {**session["invoice_creation"], "enabled": enabled}
    session.update(
        {
            "id": session_id,
            "adaptive_pricing": {"enabled": False},
            "after_expiration": None,
            "allow_promotion_codes": p.get("allow_promotion_codes"),
            "amount_subtotal": subtotal,
            "amount_total": total,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "status": None,
                "provider": None,
            },
            "billing_address_collection": p.get("billing_address_collection"),
            "cancel_url": p.get("cancel_url"),
            "client_reference_id": p.get("client_reference_id"),
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": lines[0][0]["currency"],
            "currency_conversion": None,
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": p.get("customer"),
            "customer_creation": None
            if mode == "subscription" or "customer" in p
            else "if_required",
            "customer_details": None,
            "customer_email": p.get("customer_email"),
            "discounts": (
                [{"coupon": None, "promotion_code": promotion_code}] if promotion_code else []
            ),
            "expires_at": p.get("expires_at", now + DAY),
            "invoice": None,
            "invoice_creation": invoice_creation,
            "locale": p.get("locale"),
            "managed_payments": {"enabled": False},
            "metadata": dict(p.get("metadata") or {}),
            "mode": mode,
            "payment_intent": None,
            "payment_method_collection": "always" if mode == "subscription" else None,
            "payment_method_configuration_details": None,
            "payment_method_types": ["card"],
            "permissions": None,
            "recovered_from": None,
            "saved_payment_method_options": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "status": "open",
            "subscription": None,
            "success_url": p.get("success_url"),
            "total_details": {
                "amount_discount": discount,
                "amount_shipping": 0,
                "amount_tax": 0,
            },
            "ui_mode": p.get("ui_mode", "hosted_page"),
            "url": f"{store.base_url}/c/pay/{session_id}",
            "wallet_options": None,
        }
    )
    # Stripe leaves out a return_url the session has none of (the spec's field is not nullable).
    session.pop("return_url", None)
    if p.get("return_url"):
        session["return_url"] = p["return_url"]
    store.meta_for(session_id).update(
        {
            "lines": [(pr["id"], q) for pr, q in lines],
            "subscription_data": p.get("subscription_data", {}),
            "payment_intent_data": p.get("payment_intent_data", {}),
        }
    )
    store.add("checkout.session", session)
    return _render_session(store, session, call.expand)


def _discount(
    store: Store, p: dict[str, Any], product_ids: list[str], subtotal: int
) -> tuple[str | None, int]:
    """The promotion code of `discounts[0]` and what it takes off `subtotal` (checked now,
    counted when the session is paid)."""
    from .coupons import discount_of, redeemable

    wanted = [d.get("promotion_code") for d in p.get("discounts") or [] if d.get("promotion_code")]
    if not wanted:
        return None, 0
    if p.get("allow_promotion_codes"):
        raise StripeError(
            400,
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="discounts",
        )
    coupon = redeemable(store, wanted[0], product_ids)
    return wanted[0], discount_of(coupon, subtotal)


def _render_session(store: Store, session: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    return render(store, session, expand)


@includable("checkout.session", "line_items")
def _expanded_lines(store: Store, session: dict[str, Any]) -> dict[str, Any]:
    return _line_items(store, session, {})


@includable("checkout.session", "total_details.breakdown")
def _breakdown(store: Store, session: dict[str, Any]) -> dict[str, Any]:
    # No discounts or tax rates are modelled.
    return {"discounts": [], "taxes": []}


@includable("item", "discounts")
@includable("item", "taxes")
def _no_line_amounts(store: Store, item: dict[str, Any]) -> list[Any]:
    return []


def _line_items(store: Store, session: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for index, (price_id, quantity) in enumerate(store.meta_for(session["id"])["lines"]):
        price = store.get("price", price_id)
        product = store.find(price["product"]) or {}
        amount = price["unit_amount"] * (quantity or 0)  # a metered line: billed later
        rows.append(
            {
                "id": f"li_{session['id'][8:22]}{index}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": product.get("name"),
                "price": render(store, price),
                "quantity": quantity,
            }
        )
    url = f"/v1/checkout/sessions/{session['id']}/line_items"
    return paginate(rows, params, url, store)


@route("GET", "/v1/checkout/sessions/{id}", "checkout.SessionRetrieveParams")
def retrieve_session(call: Call) -> dict[str, Any]:
    session = call.store.get("checkout.session", call.args[0])
    return _render_session(call.store, session, call.expand)


@route("GET", "/v1/checkout/sessions/{id}/line_items", "checkout.SessionLineItemListParams")
def list_session_lines(call: Call) -> dict[str, Any]:
    session = call.store.get("checkout.session", call.args[0])
    return render(call.store, _line_items(call.store, session, call.params), call.expand)


@route("GET", "/v1/checkout/sessions", "checkout.SessionListParams")
def list_sessions(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("checkout.session")
    for name in ("customer", "status", "subscription", "payment_intent"):
        if name in p:
            rows = [r for r in rows if r[name] == p[name]]
    rows = created_filter(rows, p.get("created"))
    page = paginate(rows, p, "/v1/checkout/sessions", call.store)
    return render(call.store, page, call.expand)


@route("POST", "/v1/checkout/sessions/{id}/expire", "checkout.SessionExpireParams")
def expire(call: Call) -> dict[str, Any]:
    session = call.store.get("checkout.session", call.args[0])
    if session["status"] != "open":
        raise StripeError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. '
            f'This Checkout Session has a status of "{session["status"]}".',
        )
    expire_session(call.store, session)
    return _render_session(call.store, session, call.expand)


def expire_session(store: Store, session: dict[str, Any]) -> None:
    session["status"] = "expired"
    session["url"] = None
    emit(store, "checkout.session.expired", session)


def pay_session(store: Store, session: dict[str, Any], payment_method: str) -> str | None:
    """Complete a session as the hosted page's pay button does; returns where to redirect.

    A declining payment method raises the 402 card error and changes nothing, as Checkout
    keeps the customer on the page.
    """
    if session["status"] != "open":
        raise StripeError(400, f"This Checkout Session is {session['status']}.")
    if declines(payment_method):
        raise StripeError(402, "Your card was declined.", type="card_error", code="card_declined")
    meta = store.meta_for(session["id"])
    customer = _customer_for(store, session)
    promotion_codes = [d["promotion_code"] for d in session["discounts"] if d["promotion_code"]]
    lines = [(store.get("price", pid), q) for pid, q in meta["lines"]]
    payment_status = "paid"
    if session["mode"] == "subscription":
        data = meta["subscription_data"]
        sub = create_subscription(
            store,
            customer["id"],
            [(pr, q) for pr, q in lines if pr["type"] == "recurring"],
            trial_days=data.get("trial_period_days"),
            trial_end=data.get("trial_end"),
            default_payment_method=payment_method,
            metadata=data.get("metadata") or {},
            description=data.get("description"),
            promotion_codes=promotion_codes,
        )
        session["subscription"] = sub["id"]
        session["invoice"] = sub["latest_invoice"]
        if sub["status"] == "trialing":
            payment_status = "no_payment_required"
    else:
        from .coupons import redeem

        for code in promotion_codes:
            redeem(store, code, customer=customer["id"], checkout_session=session["id"])
        session["payment_intent"] = _payment_intent(store, session, customer, payment_method)
        if session["invoice_creation"] and session["invoice_creation"]["enabled"]:
            now = store.now()
            invoice = new_invoice(
                store,
                customer["id"],
                subscription=None,
                lines=[line_for(store, pr, q, (now, now)) for pr, q in lines],
                billing_reason="manual",
                period=(now, now),
            )
            finalize(store, invoice)
            attempt_payment(store, invoice, payment_method)
            session["invoice"] = invoice["id"]
    session.update(
        {
            "customer": customer["id"],
            "customer_details": {
                "address": copy.deepcopy(customer["address"]),
                "business_name": None,
                "email": customer["email"],
                "individual_name": None,
                "name": customer["name"],
                "phone": customer["phone"],
                "tax_exempt": customer["tax_exempt"],
                "tax_ids": [],
            },
            "payment_status": payment_status,
            "status": "complete",
            "url": None,
        }
    )
    emit(store, "checkout.session.completed", session)
    success = session["success_url"]
    return success.replace("{CHECKOUT_SESSION_ID}", session["id"]) if success else None


def _customer_for(store: Store, session: dict[str, Any]) -> dict[str, Any]:
    if session["customer"]:
        return store.get("customer", session["customer"])
    from .customers import create_customer

    email = session["customer_email"] or "customer@example.com"
    call = Call(store, "POST", "/v1/customers", (), {"email": email, "name": "Emulated Customer"})
    created = create_customer(call)
    return store.get("customer", created["id"])


def _payment_intent(
    store: Store, session: dict[str, Any], customer: dict[str, Any], payment_method: str
) -> str:
    from .payment_intents import new_payment_intent, succeed

    data = store.meta_for(session["id"])["payment_intent_data"]
    intent = new_payment_intent(
        store,
        amount=session["amount_total"],
        currency=session["currency"],
        customer_id=customer["id"],
        payment_method=payment_method,
        description=data.get("description"),
        metadata=data.get("metadata"),
    )
    succeed(store, intent)
    return str(intent["id"])


@route("GET", "/v1/payment_intents/{id}", "PaymentIntentRetrieveParams")
def retrieve_payment_intent(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("payment_intent", call.args[0]), call.expand)


# billing portal
