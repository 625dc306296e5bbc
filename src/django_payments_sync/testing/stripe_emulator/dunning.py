"""Payments that need the customer (Stripe's authentication-required test cards) and the retries
of failed renewals on the emulator's clock (Stripe's "smart retries", simplified)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .events import emit

if TYPE_CHECKING:
    from .store import Store

DAY = 86_400
#: Stripe's test payment methods that need 3-D Secure authentication for every payment
#: (`pm_card_authenticationRequired` is the card 4000 0027 6000 3184; the `OnSetup` one,
#: 4000 0025 0000 3155, needs it too until it is set up for off-session use, which the
#: emulator does not model).
AUTHENTICATION_REQUIRED = (
    "pm_card_authenticationRequired",
    "pm_card_authenticationRequiredOnSetup",
    "pm_card_threeDSecure2Required",
    "tok_threeDSecure2Required",
)
#: Days after each failed attempt until the next: four attempts over three weeks, as
#: Stripe's default retry schedule. Change with `StripeEmulator.configure_dunning`.
DEFAULT_RETRY_DAYS = (3, 7, 11)
#: What a subscription becomes after its last failed attempt: "cancel" or "unpaid".
DEFAULT_FINAL = "cancel"


def needs_authentication(payment_method: str | None) -> bool:
    return payment_method is not None and payment_method.startswith(AUTHENTICATION_REQUIRED)


def dunning_settings(store: Store) -> dict[str, Any]:
    settings = store.meta_for("dunning")
    settings.setdefault("retry_days", list(DEFAULT_RETRY_DAYS))
    settings.setdefault("final", DEFAULT_FINAL)
    return settings


def is_retried(invoice: dict[str, Any]) -> bool:
    """Only renewals and changes are retried: a first invoice waits for the customer (the
    subscription stays incomplete and expires after 23 hours)."""
    return invoice["collection_method"] == "charge_automatically" and invoice["billing_reason"] in (
        "subscription_cycle",
        "subscription_update",
    )


def next_attempt(store: Store, invoice: dict[str, Any]) -> int | None:
    """When the failed `invoice` (its `attempt_count` already counted) is tried again."""
    if not is_retried(invoice):
        return None
    days = dunning_settings(store)["retry_days"]
    done = invoice["attempt_count"]
    return store.now() + int(days[done - 1]) * DAY if done <= len(days) else None


def require_action(store: Store, invoice: dict[str, Any], before: dict[str, Any]) -> None:
    """The payment waits for the customer's authentication on the hosted invoice page: Stripe
    announces `invoice.payment_action_required` and reports the attempt failed."""
    store.meta_for(invoice["id"])["awaiting_authentication"] = True
    invoice.update(
        {
            "attempted": True,
            "attempt_count": invoice["attempt_count"] + 1,
            "next_payment_attempt": None,
        }
    )
    emit(store, "invoice.payment_action_required", invoice, before)
    emit(store, "invoice.payment_failed", invoice)


def authenticated(store: Store, invoice: dict[str, Any]) -> bool:
    return bool(store.meta_for(invoice["id"]).get("authenticated"))


def due_retries(store: Store) -> list[tuple[int, str, dict[str, Any]]]:
    """Scheduled attempts at open invoices, as `billing.next_due` candidates."""
    return [
        (invoice["next_payment_attempt"], "retry_invoice", invoice)
        for invoice in store.all("invoice")
        if invoice["status"] == "open"
        and invoice.get("next_payment_attempt")
        and is_retried(invoice)
        and not store.meta_for(invoice["id"]).get("awaiting_authentication")
    ]


def retry(store: Store, invoice: dict[str, Any]) -> None:
    """The provider's next attempt at a failed invoice; after the last one the subscription
    is canceled or marked unpaid (`configure_dunning(final=...)`)."""
    from .invoicing import attempt_payment, payment_method_for

    sub = _subscription_of(store, invoice)
    paid = attempt_payment(store, invoice, payment_method_for(store, sub, invoice["customer"]))
    if sub is None:
        return
    if paid:
        recovered(store, sub)
    elif invoice["next_payment_attempt"] is None:
        _give_up(store, sub)


def recovered(store: Store, sub: dict[str, Any] | None) -> None:
    """An open invoice was paid: its subscription collects normally again."""
    if sub is None or sub["status"] not in ("incomplete", "past_due", "unpaid"):
        return
    before = copy.deepcopy(sub)
    sub["status"] = "active"
    emit(store, "customer.subscription.updated", sub, before)


def _give_up(store: Store, sub: dict[str, Any]) -> None:
    from .billing import cancel_now

    if sub["status"] in ("canceled", "incomplete_expired"):
        return
    if dunning_settings(store)["final"] == "unpaid":
        before = copy.deepcopy(sub)
        sub["status"] = "unpaid"
        emit(store, "customer.subscription.updated", sub, before)
    else:
        cancel_now(store, sub, reason="payment_failed")


def _subscription_of(store: Store, invoice: dict[str, Any]) -> dict[str, Any] | None:
    parent = invoice.get("parent") or {}
    sub_id = (parent.get("subscription_details") or {}).get("subscription")
    return store.find(sub_id) if sub_id else None


def complete_authentication(store: Store, invoice: dict[str, Any], *, succeed: bool) -> bool:
    """The customer on the hosted invoice page: authentication completed (the payment goes
    through) or failed (the attempt fails; the invoice stays open for another card)."""
    from .invoicing import attempt_payment, payment_method_for

    meta = store.meta_for(invoice["id"])
    meta.pop("awaiting_authentication", None)
    sub = _subscription_of(store, invoice)
    if not succeed:
        before = copy.deepcopy(invoice)
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = None
        emit(store, "invoice.payment_failed", invoice, before)
        return False
    meta["authenticated"] = True
    paid = attempt_payment(store, invoice, payment_method_for(store, sub, invoice["customer"]))
    if paid:
        recovered(store, sub)
    return paid


def pay_with_new_card(store: Store, invoice: dict[str, Any]) -> bool:
    """The customer pays the open invoice on its hosted page with another (working) card."""
    from .invoicing import attempt_payment

    store.meta_for(invoice["id"]).pop("awaiting_authentication", None)
    paid = attempt_payment(store, invoice, "pm_card_visa")
    if paid:
        recovered(store, _subscription_of(store, invoice))
    return paid
