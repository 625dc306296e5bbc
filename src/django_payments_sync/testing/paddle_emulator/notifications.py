"""Paddle events and their signed notifications to each notification destination."""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from ..emulator_kit.delivery import Delivery, Dispatcher

if TYPE_CHECKING:
    from .store import Store

#: The event types the emulator emits, as Paddle names them (group, description).
EVENT_TYPES: dict[str, str] = {
    "customer.created": "Occurs when a customer is created.",
    "customer.updated": "Occurs when a customer is updated.",
    "address.created": "Occurs when an address is created.",
    "address.updated": "Occurs when an address is updated.",
    "business.created": "Occurs when a business is created.",
    "business.updated": "Occurs when a business is updated.",
    "product.created": "Occurs when a product is created.",
    "product.updated": "Occurs when a product is updated.",
    "price.created": "Occurs when a price is created.",
    "price.updated": "Occurs when a price is updated.",
    "subscription.created": "Occurs when a subscription is created.",
    "subscription.activated": "Occurs when a subscription becomes active.",
    "subscription.trialing": "Occurs when a subscription enters trial period.",
    "subscription.updated": "Occurs when a subscription is updated.",
    "subscription.past_due": "Occurs when a subscription has an unsuccessful payment.",
    "subscription.paused": "Occurs when a subscription is paused.",
    "subscription.resumed": "Occurs when a subscription is resumed after being paused.",
    "subscription.canceled": "Occurs when a subscription is canceled.",
    "transaction.created": "Occurs when a transaction is created.",
    "transaction.updated": "Occurs when a transaction is updated.",
    "transaction.ready": "Occurs when a transaction is ready to be billed.",
    "transaction.paid": "Occurs when a transaction is paid.",
    "transaction.completed": "Occurs when a transaction is completed.",
    "transaction.payment_failed": "Occurs when a payment fails for a transaction.",
    "transaction.past_due": "Occurs when a transaction is past due.",
    "transaction.canceled": "Occurs when a transaction is canceled.",
    "transaction.billed": "Occurs when a transaction is billed.",
}

#: Paddle's other event types: a destination may subscribe to them; the emulator emits none.
OTHER_EVENT_TYPES = (
    "address.imported",
    "adjustment.created",
    "adjustment.updated",
    "business.imported",
    "customer.imported",
    "discount.created",
    "discount.imported",
    "discount.updated",
    "payment_method.deleted",
    "payment_method.saved",
    "payout.created",
    "payout.paid",
    "price.imported",
    "product.imported",
    "report.created",
    "report.updated",
    "subscription.imported",
    "transaction.revised",
)

# Fields of the API's entity that a notification's `data` does not carry.
_API_ONLY = {
    "subscription": ("management_urls", "next_transaction", "recurring_transaction_details"),
    "transaction": ("available_payment_methods", "discount"),
}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The `Paddle-Signature` header Paddle computes: HMAC-SHA256 of `ts:body`."""
    digest = hmac.new(secret.encode(), f"{timestamp}:".encode() + body, hashlib.sha256)
    return f"ts={timestamp};h1={digest.hexdigest()}"


def emit(
    store: Store,
    event_type: str,
    entity: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record one event carrying a snapshot of `entity` and hand it to the listeners."""
    kind = event_type.split(".", 1)[0]
    data = copy.deepcopy(entity)
    for name in _API_ONLY.get(kind, ()):
        data.pop(name, None)
    if extra:
        data.update(copy.deepcopy(extra))
    event = {
        "event_id": store.new_id("evt"),
        "event_type": event_type,
        "occurred_at": store.now(),
        "data": data,
    }
    store.add("event", {"id": event["event_id"], **event})
    for listener in store.event_listeners:
        listener(event)
    return event


def event_of(record: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the events API shows it (without the store's `id` key)."""
    return {k: record[k] for k in ("event_id", "event_type", "occurred_at", "data")}


def notification_body(event: dict[str, Any], notification_id: str) -> bytes:
    payload = {
        "event_id": event["event_id"],
        "event_type": event["event_type"],
        "occurred_at": event["occurred_at"],
        "notification_id": notification_id,
        "data": event["data"],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class PaddleDispatcher(Dispatcher):
    """Sends each event, as a notification of its own id, to every destination subscribed to it."""

    thread_name = "paddle-emulator-webhooks"

    def __init__(self, store: Store, **options: Any) -> None:
        self.store = store
        super().__init__(**options)

    # called by emit with the store lock held
    def enqueue(self, event: dict[str, Any]) -> None:
        for setting in self.store.all("notification_setting"):
            if not _listens(setting, event["event_type"]):
                continue
            notification_id = self.store.new_id("ntf")
            self.store.add(
                "notification",
                {
                    "id": notification_id,
                    "type": event["event_type"],
                    "status": "not_attempted",
                    "event_id": event["event_id"],
                    "notification_setting_id": setting["id"],
                    "times_attempted": 0,
                    "occurred_at": event["occurred_at"],
                    "delivered_at": None,
                },
            )
            self.queue(
                event["event_id"],
                event["event_type"],
                setting["id"],
                setting["destination"],
                notification_body(event, notification_id),
                functools.partial(_headers, setting["endpoint_secret_key"]),
                {"notification": notification_id},
            )

    def delivered(self, delivery: Delivery) -> None:
        with self.store.lock:
            notification = self.store.find(delivery.extra["notification"])
            if notification is not None:
                notification["status"] = "delivered"
                notification["times_attempted"] = delivery.attempt
                notification["delivered_at"] = self.store.now()


def _listens(setting: dict[str, Any], event_type: str) -> bool:
    if not setting["active"] or setting["type"] != "url":
        return False
    if setting["traffic_source"] == "simulation":
        return False
    return any(e["name"] == event_type for e in setting["subscribed_events"])


def _headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Paddle-Signature": sign(body, secret, timestamp),
        "User-Agent": "Paddle",
    }


def subscribed_event(name: str) -> dict[str, Any]:
    """An entry of a notification setting's `subscribed_events`, as Paddle describes it."""
    kind, _, action = name.partition(".")
    return {
        "name": name,
        "description": EVENT_TYPES.get(name, f"Occurs when a {kind} is {action}."),
        "group": name.split(".", 1)[0].replace("_", " ").title(),
        "available_versions": [1],
    }
