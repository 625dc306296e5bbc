"""Stripe's webhook signature, and which endpoints each event is delivered to."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from ..emulator_kit.delivery import Delivery, Dispatcher

if TYPE_CHECKING:
    from .store import Store


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value Stripe computes for `payload`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class StripeDispatcher(Dispatcher):
    """Queues each event for every enabled endpoint that listens to its type."""

    thread_name = "stripe-emulator-webhooks"

    def __init__(
        self,
        store: Store,
        *,
        retry_backoff: float = 0.5,
        max_attempts: int = 5,
        timeout: float = 5.0,
        seed: int | None = None,
    ) -> None:
        self.store = store
        super().__init__(
            retry_backoff=retry_backoff, max_attempts=max_attempts, timeout=timeout, seed=seed
        )

    # called by events.emit with the store lock held
    def enqueue(self, event: dict[str, Any]) -> None:
        endpoints = [
            e
            for e in self.store.all("webhook_endpoint")
            if e["status"] == "enabled"
            and ("*" in e["enabled_events"] or event["type"] in e["enabled_events"])
        ]
        if not endpoints:
            return
        event["pending_webhooks"] = len(endpoints)
        body = json.dumps(event, indent=2).encode()
        for endpoint in endpoints:
            self.queue(
                event["id"],
                event["type"],
                endpoint["id"],
                endpoint["url"],
                body,
                functools.partial(_headers, endpoint["secret"]),
            )

    def delivered(self, delivery: Delivery) -> None:
        with self.store.lock:
            event = self.store.find(delivery.event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1


def _headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign(body, secret, timestamp),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
