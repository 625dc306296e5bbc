"""Charges (one per successful payment intent) and refunds of them.

A payment intent that succeeds gets a charge (its ``latest_charge``). ``POST /v1/refunds``
refunds a charge (named directly or through its payment intent) in full or in part: the refund
succeeds at once, ``refund.created`` and ``charge.refunded`` follow. A charge paid with Stripe's
test card ``pm_card_refundFail`` has its refunds fail afterwards, as Stripe's do: the refund
turns ``failed`` (``refund.updated``, ``charge.refund.updated``) and its amount is returned to
the charge's unrefunded balance.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import StripeError
from ..events import emit
from ..fixtures import template
from ..render import render
from ..store import Store, created_filter, paginate
from . import Call, apply_metadata, route

#: Stripe's test payment method whose refunds fail after succeeding.
CARD_REFUND_FAILS = "pm_card_refundFail"
REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def new_charge(store: Store, intent: dict[str, Any]) -> dict[str, Any]:
    """The charge of a payment intent that just succeeded."""
    charge = template("charge")
    charge_id = store.new_id("ch_")
    charge.update(
        {
            "id": charge_id,
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "balance_transaction": None,
            "captured": True,
            "created": store.now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent.get("description"),
            "disputed": False,
            "failure_balance_transaction": None,
            "livemode": False,
            "metadata": dict(intent.get("metadata") or {}),
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": intent.get("payment_method"),
            "receipt_url": f"{store.base_url}/receipts/{charge_id}",
            "refunded": False,
            "status": "succeeded",
        }
    )
    charge["refunds"] = {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/charges/{charge_id}/refunds",
    }
    store.add("charge", charge)
    intent["latest_charge"] = charge_id
    return charge


def _refunds_of(store: Store, charge_id: str) -> list[dict[str, Any]]:
    rows = store.where("refund", lambda r: r["charge"] == charge_id)
    return sorted(rows, key=lambda r: (-r["created"], r["id"]))


def _settle_charge(store: Store, charge: dict[str, Any]) -> None:
    """The charge's refunded amount and its list of refunds, from its refunds."""
    refunds = _refunds_of(store, charge["id"])
    counted = [r for r in refunds if r["status"] in ("succeeded", "pending")]
    charge["amount_refunded"] = sum(r["amount"] for r in counted)
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    charge["refunds"] = {
        "object": "list",
        "data": [copy.deepcopy(r) for r in refunds[:10]],
        "has_more": len(refunds) > 10,
        "url": f"/v1/charges/{charge['id']}/refunds",
    }


def _charge_to_refund(store: Store, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("charge") and p.get("payment_intent"):
        raise StripeError(
            400, "You cannot pass both `charge` and `payment_intent`.", param="payment_intent"
        )
    if p.get("charge"):
        return store.get("charge", p["charge"])
    if p.get("payment_intent"):
        intent = store.get("payment_intent", p["payment_intent"])
        if not intent.get("latest_charge"):
            raise StripeError(
                400,
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        return store.get("charge", intent["latest_charge"])
    raise StripeError(
        400,
        "One of the following params should be provided for this request: payment_intent "
        "or charge.",
        param="charge",
    )


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


@route("POST", "/v1/refunds", "RefundCreateParams")
def create_refund(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    charge = _charge_to_refund(store, p)
    left = charge["amount"] - charge["amount_refunded"]
    if left <= 0:
        raise StripeError(
            400,
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = p.get("amount", left)
    if not isinstance(amount, int) or amount <= 0:
        raise StripeError(400, "Invalid positive integer", param="amount")
    if amount > left:
        raise StripeError(
            400,
            f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
            f"amount on charge ({_money(left, charge['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    if p.get("reason") not in (None, *REASONS):
        raise StripeError(
            400, f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason"
        )
    refund = template("refund")
    refund.update(
        {
            "id": store.new_id("re_"),
            "amount": amount,
            "charge": charge["id"],
            "created": store.now(),
            "currency": charge["currency"],
            "customer": charge["customer"],
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "payment_method": charge.get("payment_method"),
            "reason": p.get("reason"),
            "status": "succeeded",
        }
    )
    apply_metadata(refund, p.get("metadata"))
    store.add("refund", refund)
    before = copy.deepcopy(charge)
    _settle_charge(store, charge)
    emit(store, "refund.created", refund)
    emit(store, "charge.refunded", charge, before)
    # The answer says succeeded; the failure comes after it, as Stripe's does.
    answer = render(store, refund, call.expand)
    if charge.get("payment_method") == CARD_REFUND_FAILS:
        fail_refund(store, refund, "lost_or_stolen_card")
    return answer


def fail_refund(store: Store, refund: dict[str, Any], reason: str) -> None:
    """The bank returned the refund: it fails, and the charge has its amount back."""
    before = copy.deepcopy(refund)
    refund["status"] = "failed"
    refund["failure_reason"] = reason
    refund["failure_balance_transaction"] = store.new_id("txn_")
    charge = store.get("charge", refund["charge"])
    _settle_charge(store, charge)
    emit(store, "refund.updated", refund, before)
    emit(store, "charge.refund.updated", refund, before)


@route("GET", "/v1/refunds/{id}", "RefundRetrieveParams")
def retrieve_refund(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("refund", call.args[0]), call.expand)


@route("GET", "/v1/refunds", "RefundListParams")
def list_refunds(call: Call) -> dict[str, Any]:
    p = call.params
    rows = sorted(call.store.all("refund"), key=lambda r: (-r["created"], r["id"]))
    for name in ("charge", "payment_intent"):
        if name in p:
            rows = [r for r in rows if r[name] == p[name]]
    rows = created_filter(rows, p.get("created"))
    return render(call.store, paginate(rows, p, "/v1/refunds", call.store), call.expand)


@route("GET", "/v1/charges/{id}", "ChargeRetrieveParams")
def retrieve_charge(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("charge", call.args[0]), call.expand)
