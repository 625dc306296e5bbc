"""What the clock does to subscriptions: renewals, dunning, scheduled pauses, resumes and
cancellations."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .billing import (
    bill_subscription,
    card_for,
    charge,
    complete,
    emit_updated,
    touch,
)
from .notifications import emit
from .periods import period
from .store import iso, parse_time

if TYPE_CHECKING:
    from .store import Store

DAY = 86400.0
#: Failed renewals are retried daily; after this many days the subscription is canceled (or
#: paused: the store's `dunning_exhausted_action`, as Paddle's dunning settings say).
DUNNING_DAYS = 7


def renew(store: Store, sub: dict[str, Any]) -> None:
    """The period ends: start the next one and bill it; a decline makes it past due."""
    before = copy.deepcopy(sub)
    start = parse_time(sub["next_billed_at"])
    current = period(start, sub["billing_cycle"])
    sub["current_billing_period"] = current
    sub["next_billed_at"] = current["ends_at"]
    sub["first_billed_at"] = sub["first_billed_at"] or iso(start)
    for item in sub["items"]:
        item["status"] = "active"
        item["previously_billed_at"] = iso(start)
        item["next_billed_at"] = current["ends_at"]
    was_trialing = sub["status"] == "trialing"
    sub["status"] = "active"
    emit_updated(store, sub, before)
    if was_trialing:
        emit(store, "subscription.activated", sub)
    txn, paid = bill_subscription(store, sub, "subscription_recurring")
    # One-time items added by an update are billed once, with this renewal.
    sub["items"] = [i for i in sub["items"] if i["recurring"]]
    if not paid:
        fail_renewal(store, sub, txn)


def fail_renewal(store: Store, sub: dict[str, Any], txn: dict[str, Any]) -> None:
    touch(store, txn, "past_due")
    emit(store, "transaction.past_due", txn)
    sub["status"] = "past_due"
    sub["updated_at"] = store.now()
    meta = store.meta_for(sub["id"])
    meta["dunning"] = {"transaction": txn["id"], "since": store.time(), "retry": store.time() + DAY}
    emit(store, "subscription.past_due", sub)


def retry_payment(store: Store, sub: dict[str, Any]) -> None:
    """A dunning retry: paid brings the subscription back; too long unpaid cancels it."""
    meta = store.meta_for(sub["id"])
    dunning = meta["dunning"]
    txn = store.get("transaction", dunning["transaction"])
    if charge(store, txn, card_for(store, sub["customer_id"])):
        complete(store, txn)
        meta.pop("dunning")
        before = copy.deepcopy(sub)
        sub["status"] = "active"
        emit_updated(store, sub, before)
        return
    if store.time() - dunning["since"] >= DUNNING_DAYS * DAY:
        meta.pop("dunning")
        touch(store, txn, "canceled")
        emit(store, "transaction.canceled", txn)
        if store.dunning_exhausted_action == "subscription_paused":
            pause_now(store, sub, None)
        else:
            cancel_now(store, sub)
        return
    dunning["retry"] = store.time() + DAY


def cancel_now(store: Store, sub: dict[str, Any]) -> None:
    now = store.now()
    sub.update(
        {
            "status": "canceled",
            "canceled_at": now,
            "updated_at": now,
            "next_billed_at": None,
            "current_billing_period": None,
            "scheduled_change": None,
            "management_urls": None,
        }
    )
    store.meta_for(sub["id"]).pop("dunning", None)
    for item in sub["items"]:
        item["status"] = "inactive"
        item["next_billed_at"] = None
    emit(store, "subscription.canceled", sub)


def pause_now(store: Store, sub: dict[str, Any], resume_at: str | None) -> None:
    now = store.now()
    # Kept for a resume that continues the period the pause interrupted.
    store.meta_for(sub["id"])["paused_period"] = sub["current_billing_period"]
    sub.update(
        {
            "status": "paused",
            "paused_at": now,
            "updated_at": now,
            "next_billed_at": None,
            "current_billing_period": None,
            "scheduled_change": (
                {"action": "resume", "effective_at": resume_at, "resume_at": resume_at}
                if resume_at
                else None
            ),
        }
    )
    for item in sub["items"]:
        item["next_billed_at"] = None
    emit(store, "subscription.paused", sub)


def resume_now(store: Store, sub: dict[str, Any], on_resume: str) -> None:
    """Resume a paused subscription: a new period (billed now) unless the old one continues."""
    start = store.time()
    now = iso(start)
    paused = store.meta_for(sub["id"]).pop("paused_period", None)
    if (
        on_resume == "continue_existing_billing_period"
        and paused is not None
        and parse_time(paused["ends_at"]) > start
    ):
        current = paused
    else:
        current = period(start, sub["billing_cycle"])
    sub.update(
        {
            "status": "active",
            "paused_at": None,
            "updated_at": now,
            "current_billing_period": current,
            "next_billed_at": current["ends_at"],
            "scheduled_change": None,
        }
    )
    for item in sub["items"]:
        item["status"] = "active"
        item["next_billed_at"] = current["ends_at"]
    emit(store, "subscription.resumed", sub)
    if current["starts_at"] == now:
        txn, paid = bill_subscription(store, sub, "subscription_recurring")
        if not paid:
            fail_renewal(store, sub, txn)


# the clock


def next_due(store: Store) -> tuple[float, str, dict[str, Any]] | None:
    """The earliest scheduled change, renewal or dunning retry, as (when, what, subscription)."""
    candidates: list[tuple[float, str, dict[str, Any]]] = []
    for sub in store.all("subscription"):
        change = sub["scheduled_change"]
        if change is not None:
            candidates.append((parse_time(change["effective_at"]), change["action"], sub))
        dunning = store.meta_for(sub["id"]).get("dunning")
        if dunning is not None:
            candidates.append((dunning["retry"], "retry", sub))
        elif sub["status"] in ("active", "trialing") and sub["next_billed_at"]:
            candidates.append((parse_time(sub["next_billed_at"]), "renew", sub))
    if not candidates:
        return None
    # At one moment a scheduled change goes before the renewal it replaces.
    rank = {"cancel": 0, "pause": 0, "resume": 1, "retry": 2, "renew": 3}
    return min(candidates, key=lambda c: (c[0], rank[c[1]]))


def perform(store: Store, what: str, sub: dict[str, Any]) -> None:
    if what == "renew":
        renew(store, sub)
    elif what == "retry":
        retry_payment(store, sub)
    elif what == "cancel":
        cancel_now(store, sub)
    elif what == "pause":
        pause_now(store, sub, sub["scheduled_change"].get("resume_at"))
    elif what == "resume":
        on_resume = store.meta_for(sub["id"]).get("on_resume", "start_new_billing_period")
        resume_now(store, sub, on_resume)
