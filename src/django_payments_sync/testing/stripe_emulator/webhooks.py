"""Signed, asynchronous webhook delivery with retries, delivery modes and a delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .store import Store

DeliveryMode = Literal["in-order", "shuffled", "duplicates"]
DELIVERY_MODES: tuple[str, ...] = ("in-order", "shuffled", "duplicates")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value Stripe computes for `payload`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class _Delivery:
    seq: int
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    secret: str
    body: bytes
    attempt: int = 1
    due: float = 0.0


class Dispatcher:
    """One background thread that posts queued events to endpoints and retries failures."""

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
        self.retry_backoff = retry_backoff
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._seed = seed
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.reset()

    def reset(self) -> None:
        with self._cond:
            self._queue: list[_Delivery] = []
            self._inflight = 0
            self._seq = 0
            # Answers to deliveries sent before a reset belong to the old state; drop them.
            self._generation = getattr(self, "_generation", 0) + 1
            self.log: list[dict[str, Any]] = []
            self.mode: str = "in-order"
            self.paused = False
            self._rng = random.Random(self._seed)
            self._cond.notify_all()

    # lifecycle

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stripe-emulator-webhooks")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)
            self._thread = None

    # controls

    def set_mode(self, mode: str) -> None:
        if mode not in DELIVERY_MODES:
            raise ValueError(f"delivery mode must be one of {', '.join(DELIVERY_MODES)}")
        with self._cond:
            self.mode = mode

    def pause(self) -> None:
        with self._cond:
            self.paused = True

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Resume, send everything queued (retries included) now, and wait until done."""
        with self._cond:
            self.paused = False
            for delivery in self._queue:
                delivery.due = 0.0
            self._cond.notify_all()
        return self.wait(timeout)

    def wait(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until no delivery is queued or in flight; return the delivery log."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    state = "paused" if self.paused else "still retrying"
                    raise TimeoutError(
                        f"{len(self._queue)} webhook deliveries pending ({state}) after {timeout}s"
                    )
                self._cond.wait(remaining)
            return list(self.log)

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._inflight

    def deliveries(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self.log)

    # queueing (called by events.emit with the store lock held)

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
        copies = 2 if self.mode == "duplicates" else 1
        with self._cond:
            for endpoint in endpoints:
                for _ in range(copies):
                    self._seq += 1
                    self._queue.append(
                        _Delivery(
                            seq=self._seq,
                            event_id=event["id"],
                            event_type=event["type"],
                            endpoint_id=endpoint["id"],
                            url=endpoint["url"],
                            secret=endpoint["secret"],
                            body=body,
                        )
                    )
            self._cond.notify_all()

    # the worker

    def _next(self) -> tuple[_Delivery, int] | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                ready = [d for d in self._queue if d.due <= now] if not self.paused else []
                if ready:
                    if self.mode == "shuffled":
                        chosen = self._rng.choice(ready)
                    else:
                        chosen = min(ready, key=lambda d: d.seq)
                    self._queue.remove(chosen)
                    self._inflight += 1
                    return chosen, self._generation
                waits = [d.due - now for d in self._queue] if not self.paused else []
                self._cond.wait(min(waits) if waits else None)

    def _run(self) -> None:
        while True:
            picked = self._next()
            if picked is None:
                return
            delivery, generation = picked
            status, error, started = self._send(delivery)
            self._finish(delivery, generation, status, error, started)

    def _send(self, delivery: _Delivery) -> tuple[int | None, str | None, float]:
        started = time.time()
        # Signed with wall-clock time, not the emulator clock, so receivers' tolerance holds.
        header = sign(delivery.body, delivery.secret, int(started))
        request = urllib.request.Request(
            delivery.url,
            data=delivery.body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, None, started
        except urllib.error.HTTPError as exc:
            return exc.code, None, started
        except OSError as exc:
            return None, f"{type(exc).__name__}: {exc}", started

    def _finish(
        self,
        delivery: _Delivery,
        generation: int,
        status: int | None,
        error: str | None,
        started: float,
    ) -> None:
        ok = status is not None and 200 <= status < 300
        with self._cond:
            self._inflight -= 1
            if generation != self._generation:
                self._cond.notify_all()
                return
            self.log.append(
                {
                    "event": delivery.event_id,
                    "type": delivery.event_type,
                    "endpoint": delivery.endpoint_id,
                    "url": delivery.url,
                    "attempt": delivery.attempt,
                    "status": status,
                    "error": error,
                    "ok": ok,
                    "at": started,
                    "duration": time.time() - started,
                }
            )
            if not ok and delivery.attempt < self.max_attempts:
                delivery.attempt += 1
                delivery.due = time.monotonic() + self.retry_backoff * 2 ** (delivery.attempt - 2)
                self._queue.append(delivery)
            self._cond.notify_all()
        if ok:
            with self.store.lock:
                event = self.store.find(delivery.event_id)
                if event is not None and event["pending_webhooks"] > 0:
                    event["pending_webhooks"] -= 1
