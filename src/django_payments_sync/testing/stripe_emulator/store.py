"""The emulator's state: objects by id, creation order, idempotency results and the clock."""

from __future__ import annotations

import copy
import random
import string
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..emulator_kit.clock import Clock
from .errors import missing

_ALPHABET = string.ascii_letters + string.digits

# How many random characters follow each prefix, roughly as long as Stripe's own ids.
_ID_LENGTHS = {"cs_test_": 58, "whsec_": 32, "bps_": 24, "acct_": 16, "cus_": 14, "txi_": 24}


class Store:
    """All emulated Stripe state. Every access happens under `lock` (one lock, as promised)."""

    def __init__(self, seed: int | None = None, account_id: str | None = None) -> None:
        self.lock = threading.RLock()
        self._seed = seed
        self._account_id = account_id
        self.base_url = "http://127.0.0.1"
        self.event_listeners: list[Callable[[dict[str, Any]], None]] = []
        self.clock = Clock(whole_seconds=True)
        self.reset()
        # One account per emulator, kept across resets: a reset empties the account, it does
        # not open another one (a second emulator is another account).
        self._account_id = self.account_id

    def reset(self) -> None:
        with self.lock:
            # A request that arrived before the reset (one held back by a delay fault, whose
            # client gave up long ago) must not write into the fresh state.
            self.generation = getattr(self, "generation", 0) + 1
            self.rng = random.Random(self._seed)
            self.objects: dict[str, dict[str, Any]] = {}
            self.order: dict[str, list[str]] = {}
            self.deleted: dict[str, dict[str, Any]] = {}
            self.idempotency: dict[tuple[str, str], tuple[str, int, bytes]] = {}
            self.clock.reset()
            # Emulator-only bookkeeping per object id (pending prorations, notices sent...).
            self.meta: dict[str, dict[str, Any]] = {}
            # Drawn even when given, so that a seed yields the same object ids either way.
            drawn = self.new_id("acct_")
            self.account_id = self._account_id or drawn
            self.request_count = 0

    # ids and time

    def new_id(self, prefix: str) -> str:
        length = _ID_LENGTHS.get(prefix, 24)
        return prefix + "".join(self.rng.choice(_ALPHABET) for _ in range(length))

    def now(self) -> int:
        return self.clock.now()

    @property
    def clock_offset(self) -> int:
        return int(self.clock.offset)

    # objects

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.objects[obj["id"]] = obj
            self.order.setdefault(kind, []).append(obj["id"])
            return obj

    def get(self, kind: str, object_id: str, *, label: str | None = None) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None or obj.get("object") != kind:
                raise missing(label or kind, object_id)
            return obj

    def meta_for(self, object_id: str) -> dict[str, Any]:
        return self.meta.setdefault(object_id, {})

    def find(self, object_id: str) -> dict[str, Any] | None:
        return self.objects.get(object_id)

    def remove(self, kind: str, object_id: str) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.pop(object_id)
            self.order[kind].remove(object_id)
            self.deleted[object_id] = obj
            return obj

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Objects of one kind, newest first (the order Stripe lists in)."""
        with self.lock:
            return [self.objects[i] for i in reversed(self.order.get(kind, []))]

    def where(self, kind: str, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [o for o in self.all(kind) if predicate(o)]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "clock": self.now(),
                "clock_offset": self.clock_offset,
                "account": self.account_id,
                "objects": {
                    kind: [copy.deepcopy(self.objects[i]) for i in ids]
                    for kind, ids in self.order.items()
                },
            }


def paginate(
    items: Iterable[dict[str, Any]], params: dict[str, Any], url: str, store: Store
) -> dict[str, Any]:
    """Stripe's cursor pagination over objects already sorted newest first."""
    from .errors import StripeError

    rows = list(items)
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise StripeError(
            400,
            "Invalid limit: must be at least 1 and at most 100",
            param="limit",
        )
    after = params.get("starting_after")
    before = params.get("ending_before")
    ids = [r["id"] for r in rows]
    if after is not None:
        if after not in ids:
            raise missing(_describe(after), after, param="starting_after")
        start = ids.index(after) + 1
        page = rows[start : start + limit]
        has_more = start + limit < len(rows)
    elif before is not None:
        if before not in ids:
            raise missing(_describe(before), before, param="ending_before")
        end = ids.index(before)
        page = rows[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page = rows[:limit]
        has_more = len(rows) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def _describe(object_id: str) -> str:
    prefix = object_id.split("_", 1)[0]
    return {
        "cus": "customer",
        "prod": "product",
        "price": "price",
        "sub": "subscription",
        "in": "invoice",
        "evt": "event",
        "we": "webhook_endpoint",
        "txi": "tax_id",
        "cs": "checkout.session",
    }.get(prefix, "object")


def created_filter(rows: list[dict[str, Any]], created: Any) -> list[dict[str, Any]]:
    """Apply a `created` filter given as an int or as `{gt, gte, lt, lte}`."""
    if created is None:
        return rows
    if isinstance(created, int):
        return [r for r in rows if r["created"] == created]
    checks = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    out = rows
    for op, bound in created.items():
        out = [r for r in out if checks[op](r["created"], bound)]
    return out
