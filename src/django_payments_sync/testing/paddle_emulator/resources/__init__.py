"""Routing of Paddle API requests to handlers, and what the handlers share."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

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


Handler = Callable[[Call], "dict[str, Any] | Listed | None"]


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler


ROUTES: list[Route] = []


H = TypeVar("H", bound=Callable[..., Any])


def route(method: str, pattern: str) -> Callable[[H], H]:
    """Register a handler for `method pattern`; `{x}` in the pattern captures one path segment."""
    regex = re.compile("^" + re.sub(r"\{\w+\}", r"([^/]+)", pattern) + "$")

    def register(handler: H) -> H:
        ROUTES.append(Route(method, regex, handler))
        return handler

    return register


def match(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    """The route for a request, or None."""
    _load()
    for candidate in ROUTES:
        found = candidate.regex.match(path)
        if found and candidate.method == method:
            return candidate, found.groups()
    return None


def path_exists(path: str) -> bool:
    """Whether some method is routed for `path` (a 405 rather than a 404 for the others)."""
    _load()
    return any(r.regex.match(path) for r in ROUTES)


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        from . import catalog, customers, events, subscriptions, transactions  # noqa: F401

        _loaded = True
