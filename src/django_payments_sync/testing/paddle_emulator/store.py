"""The Paddle emulator's state: entities by id, in creation order, its clock and its ids."""

from __future__ import annotations

import copy
import datetime as dt
import random
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ..emulator_kit.clock import Clock
from .errors import invalid, not_found

# Paddle's ids: a prefix and 26 characters of lowercase Crockford base32, time-ordered (ULID).
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"


def iso(timestamp: float) -> str:
    """RFC 3339 in UTC with microseconds, as Paddle writes `occurred_at` and its dates."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> float:
    """A Paddle RFC 3339 timestamp (`...Z`, any fraction) as a Unix time."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Store:
    """All emulated Paddle state. Every access happens under `lock` (one lock)."""

    def __init__(self, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self._seed = seed
        self.base_url = "http://127.0.0.1"
        self.event_listeners: list[Callable[[dict[str, Any]], None]] = []
        self.clock = Clock()
        #: What happens when dunning gives up: "subscription_canceled" or "subscription_paused".
        self.dunning_exhausted_action = "subscription_canceled"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            # A request held back before a reset (a delay fault) must not write afterwards.
            self.generation = getattr(self, "generation", 0) + 1
            self.rng = random.Random(self._seed)
            self.objects: dict[str, dict[str, Any]] = {}
            self.kinds: dict[str, str] = {}
            self.order: dict[str, list[str]] = {}
            # Emulator-only facts per entity id (payment method, card, dunning...).
            self.meta: dict[str, dict[str, Any]] = {}
            self.clock.reset()
            self._sequence = 0
            self.request_count = 0

    # ids and time

    def new_id(self, prefix: str) -> str:
        """`prefix_` + 26 base32 characters; later ids sort after earlier ones, as ULIDs do."""
        self._sequence += 1
        head = "01" + _encode(self._sequence, 8)
        tail = "".join(self.rng.choice(_BASE32) for _ in range(16))
        return f"{prefix}_{head}{tail}"

    def time(self) -> float:
        return self.clock.time()

    def now(self) -> str:
        """The emulator's time as Paddle writes it."""
        return iso(self.clock.time())

    # entities

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        self.kinds[obj["id"]] = kind
        self.order.setdefault(kind, []).append(obj["id"])
        return obj

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        if self.kinds.get(object_id) != kind:
            raise not_found(object_id)
        return self.objects[object_id]

    def find(self, object_id: str) -> dict[str, Any] | None:
        return self.objects.get(object_id)

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Entities of one kind, oldest first (`id[ASC]`)."""
        return [self.objects[i] for i in self.order.get(kind, [])]

    def where(self, kind: str, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [o for o in self.all(kind) if predicate(o)]

    def meta_for(self, object_id: str) -> dict[str, Any]:
        return self.meta.setdefault(object_id, {})

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "clock": self.now(),
                "clock_offset": self.clock.offset,
                "objects": {
                    kind: [copy.deepcopy(self.objects[i]) for i in ids]
                    for kind, ids in self.order.items()
                },
            }


def _encode(number: int, width: int) -> str:
    out = ""
    for _ in range(width):
        number, digit = divmod(number, 32)
        out = _BASE32[digit] + out
    return out


def paginate(
    store: Store, rows: list[dict[str, Any]], path: str, query: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Paddle's cursor pagination: `after` (an id), `per_page` (default 50; more than 200
    gives 200, as Paddle does), `order_by` (default `id[DESC]`: newest first, as Paddle lists).

    Returns the page and `meta.pagination`, whose `next` is an absolute URL the SDK follows.
    """
    try:
        per_page = min(int(query.get("per_page", 50)), 200)
    except ValueError:
        raise invalid("per_page", "must be an integer") from None
    if per_page < 1:
        raise invalid("per_page", "must be at least 1")
    order_by = query.get("order_by", "id[DESC]")
    field, _, direction = order_by.partition("[")
    direction = direction.rstrip("]").upper() or "ASC"
    if direction not in ("ASC", "DESC"):
        raise invalid("order_by", "direction must be ASC or DESC")
    if field not in ("id", "created_at", "updated_at", "billed_at", "occurred_at"):
        raise invalid("order_by", f"cannot order by {field}")
    descending = direction == "DESC"
    ordered = sorted(rows, key=lambda r: (r.get(field) or "", r["id"]), reverse=descending)
    after = query.get("after")
    if after:
        ids = [r["id"] for r in ordered]
        if after in ids:
            ordered = ordered[ids.index(after) + 1 :]
        else:
            ordered = [r for r in ordered if (r["id"] < after if descending else r["id"] > after)]
    page = ordered[:per_page]
    cursor = page[-1]["id"] if page else after
    following = {k: v for k, v in query.items() if k != "after"}
    if cursor:
        following = {"after": cursor, **following}
    pagination = {
        "per_page": per_page,
        "next": f"{store.base_url}{path}?{urlencode(following)}",
        "has_more": len(ordered) > per_page,
        "estimated_total": len(rows),
    }
    return page, pagination
