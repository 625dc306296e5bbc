"""Payment intents: made by a paid one-time checkout, or created and confirmed off-session
(``POST /v1/payment_intents`` with ``confirm``), charging a saved payment method once."""

from __future__ import annotations

from typing import Any

from ..errors import StripeError
from ..events import emit
from ..fixtures import template
from ..invoicing import declines
from ..render import render
from ..store import Store
from . import Call, require, route


def new_payment_intent(
    store: Store,
    *,
    amount: int,
    currency: str,
    customer_id: str | None,
    payment_method: str | None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A payment intent awaiting confirmation (stored, ``payment_intent.created`` emitted)."""
    intent = template("payment_intent")
    intent_id = store.new_id("pi_")
    intent.update(
        {
            "id": intent_id,
            "amount": amount,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "client_secret": f"{intent_id}_secret_{store.new_id('')}",
            "created": store.now(),
            "currency": currency,
            "customer": customer_id,
            "description": description,
            "last_payment_error": None,
            "latest_charge": None,
            "metadata": dict(metadata or {}),
            "next_action": None,
            "payment_method": payment_method,
            "payment_method_configuration_details": None,
            "processing": None,
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
            "transfer_data": None,
            "managed_payments": {"enabled": False},
        }
    )
    store.add("payment_intent", intent)
    emit(store, "payment_intent.created", intent)
    return intent


def succeed(store: Store, intent: dict[str, Any]) -> None:
    """The payment went through: a charge, ``charge.succeeded``, ``payment_intent.succeeded``."""
    from .refunds import new_charge

    intent["status"] = "succeeded"
    intent["amount_received"] = intent["amount"]
    charge = new_charge(store, intent)
    emit(store, "charge.succeeded", charge)
    emit(store, "payment_intent.succeeded", intent)


def _decline(store: Store, intent: dict[str, Any]) -> StripeError:
    intent["status"] = "requires_payment_method"
    intent["last_payment_error"] = {
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
        "type": "card_error",
    }
    emit(store, "payment_intent.payment_failed", intent)
    return StripeError(
        402,
        "Your card was declined.",
        type="card_error",
        code="card_declined",
        decline_code="generic_decline",
    )


@route("POST", "/v1/payment_intents", "PaymentIntentCreateParams")
def create_payment_intent(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    amount = require(p, "amount")
    if not isinstance(amount, int) or amount < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", param="amount")
    currency = str(require(p, "currency")).lower()
    customer_id = p.get("customer")
    if customer_id:
        store.get("customer", customer_id)
    if p.get("off_session") and not p.get("confirm"):
        raise StripeError(
            400, "You may only specify `off_session` when `confirm=true`.", param="off_session"
        )
    intent = new_payment_intent(
        store,
        amount=amount,
        currency=currency,
        customer_id=customer_id,
        payment_method=p.get("payment_method"),
        description=p.get("description"),
        metadata=p.get("metadata"),
    )
    if p.get("confirm"):
        if not intent["payment_method"]:
            raise StripeError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                param="payment_method",
                code="payment_intent_unexpected_state",
            )
        if declines(intent["payment_method"]):
            raise _decline(store, intent)
        succeed(store, intent)
    return render(store, intent, call.expand)
