"""Routing of Paddle API requests to handlers, and what the handlers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...emulator_kit.routing import Router

if TYPE_CHECKING:
    from ..store import Store


@dataclass
class Call:
    """One API request as a handler sees it: the JSON body, the query and the path's captures."""

    store: Store
    method: str
    path: str
    args: tuple[str, ...]
    query: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def includes(self) -> set[str]:
        return {i for i in self.query.get("include", "").split(",") if i}

    def filter(self, name: str) -> set[str]:
        """A comma-separated list filter (`?status=active,archived`), empty when absent."""
        return {v for v in self.query.get(name, "").split(",") if v}


@dataclass
class Listed:
    """A list answer: one page of entities and its `meta.pagination`."""

    data: list[dict[str, Any]]
    pagination: dict[str, Any]


def _load() -> None:
    from . import catalog, customers, discounts, events, subscriptions, transactions  # noqa: F401


ROUTER = Router(_load)
route = ROUTER.route
match = ROUTER.match
path_exists = ROUTER.path_exists
