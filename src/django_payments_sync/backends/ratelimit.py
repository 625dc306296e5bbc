"""A provider rate budget: a token bucket, and a backend wrapper that takes a token a call.

``payments_sync reconcile`` and ``payments_sync push`` (whose threads share one bucket) use it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django_payments_sync.backends import BaseBackend


class TokenBucket:
    """At most ``rate`` operations a second on average, in bursts of at most ``capacity``."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("The rate must be positive.")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(1.0, rate))
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def take(self, tokens: float = 1.0) -> float:
        """Take ``tokens``, sleeping until they are there; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= tokens
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            self._sleep(wait)
            self.waited += wait
        return wait


#: Backend attributes that are not provider calls.
_NOT_CALLS = frozenset({"supports", "check_options", "account_id", "default_rate_limit"})


class RateLimitedBackend:
    """A backend whose every provider call takes a token first (a listing: one per page).

    Safe to share between threads: the bucket and the call counter each have a lock.
    """

    def __init__(self, backend: BaseBackend, bucket: TokenBucket, page_size: int = 100) -> None:
        self._backend = backend
        self.bucket = bucket
        self.page_size = page_size
        self.calls: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._count_lock:
            self.calls[name] += 1

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if name.startswith("_") or name in _NOT_CALLS or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.bucket.take()
            self._count(name)
            result = value(*args, **kwargs)
            if name.startswith("list_"):
                return self._pages(name, result)
            return result

        return call

    def _pages(self, name: str, items: Iterable[Any]) -> Iterator[Any]:
        for n, item in enumerate(items, start=1):
            if n % self.page_size == 0:
                self.bucket.take()  # the next page's request
                self._count(name)
            yield item

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())
