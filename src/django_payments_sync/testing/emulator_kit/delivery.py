"""Asynchronous webhook delivery with retries, delivery modes, pause/flush/wait and a log."""

from __future__ import annotations

import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

DeliveryMode = Literal["in-order", "shuffled", "duplicates"]
DELIVERY_MODES: tuple[str, ...] = ("in-order", "shuffled", "duplicates")

#: The headers of one attempt (signature included), from the body and the sending time.
Signer = Callable[[bytes, int], dict[str, str]]


@dataclass
class Delivery:
    """One event (or notification) for one endpoint, retried until it succeeds or gives up."""

    seq: int
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    body: bytes
    signer: Signer = field(repr=False)
    #: Provider-specific facts for the log (e.g. Paddle's notification id).
    extra: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1
    due: float = 0.0


class Dispatcher:
    """A background thread that posts queued deliveries to endpoints and retries failures.

    Subclasses decide what to queue for an event (`enqueue`) and what a success changes
    (`delivered`); `start()` again adds another sending thread on the same queue.
    """

    thread_name = "emulator-webhooks"

    def __init__(
        self,
        *,
        retry_backoff: float = 0.5,
        max_attempts: int = 5,
        timeout: float = 5.0,
        seed: int | None = None,
    ) -> None:
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
            self._queue: list[Delivery] = []
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
        self._thread = threading.Thread(target=self._run, name=self.thread_name)
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

    # queueing

    def copies(self) -> int:
        """How many times each delivery is queued now (2 in `duplicates` mode)."""
        return 2 if self.mode == "duplicates" else 1

    def queue(
        self,
        event_id: str,
        event_type: str,
        endpoint_id: str,
        url: str,
        body: bytes,
        signer: Signer,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Queue one delivery (twice in `duplicates` mode)."""
        with self._cond:
            for _ in range(self.copies()):
                self._seq += 1
                self._queue.append(
                    Delivery(
                        self._seq,
                        event_id,
                        event_type,
                        endpoint_id,
                        url,
                        body,
                        signer,
                        dict(extra or {}),
                    )
                )
            self._cond.notify_all()

    def delivered(self, delivery: Delivery) -> None:
        """Called (without the dispatcher's lock) after an attempt answered 2xx."""

    # the worker

    def _next(self) -> tuple[Delivery, int] | None:
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

    def _send(self, delivery: Delivery) -> tuple[int | None, str | None, float]:
        started = time.time()
        # Signed with wall-clock time, not the emulator clock, so receivers' tolerance holds.
        headers = delivery.signer(delivery.body, int(started))
        request = urllib.request.Request(
            delivery.url, data=delivery.body, method="POST", headers=headers
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
        delivery: Delivery,
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
                    **delivery.extra,
                }
            )
            if not ok and delivery.attempt < self.max_attempts:
                delivery.attempt += 1
                delivery.due = time.monotonic() + self.retry_backoff * 2 ** (delivery.attempt - 2)
                self._queue.append(delivery)
            self._cond.notify_all()
        if ok:
            self.delivered(delivery)
