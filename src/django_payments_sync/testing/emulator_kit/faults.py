"""Fault injection per route: a share (or the next N) of requests get a 500, a 429 or a delay."""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["500", "429", "delay"]
FAULT_KINDS: tuple[str, ...] = ("500", "429", "delay")


@dataclass
class Fault:
    id: int
    method: str
    pattern: str
    kind: str
    share: float
    remaining: int | None
    delay: float
    retry_after: int
    rng: random.Random = field(repr=False)
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route": f"{self.method} {self.pattern}",
            "kind": self.kind,
            "share": self.share,
            "remaining": self.remaining,
            "delay": self.delay,
            "retry_after": self.retry_after,
            "hits": self.hits,
        }


class Faults:
    """The active faults; the first matching one that fires decides the request's fate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        route: str,
        kind: str,
        share: float = 1.0,
        *,
        count: int | None = None,
        delay: float = 2.0,
        retry_after: int = 1,
        seed: int | None = 0,
    ) -> Fault:
        """`route` is `"METHOD /path/pattern"` (fnmatch, `*` for any method) or just a path."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        method, _, pattern = route.strip().partition(" ")
        if not pattern:
            method, pattern = "*", method
        fault = Fault(
            id=next(self._ids),
            method=method.upper(),
            pattern=pattern.strip(),
            kind=kind,
            share=share,
            remaining=count,
            delay=delay,
            retry_after=retry_after,
            rng=random.Random(seed),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def pick(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method not in ("*", method) or not fnmatch.fnmatchcase(
                    path, fault.pattern
                ):
                    continue
                if fault.share < 1.0 and fault.rng.random() >= fault.share:
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None
