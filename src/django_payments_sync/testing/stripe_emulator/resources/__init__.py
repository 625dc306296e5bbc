"""Routing of `/v1/...` requests to handlers, and helpers the handlers share."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import StripeError

if TYPE_CHECKING:
    from ..store import Store


@dataclass
class Call:
    """One API request as a handler sees it: validated params and the path's captures."""

    store: Store
    method: str
    path: str
    args: tuple[str, ...]
    params: dict[str, Any]
    api_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def expand(self) -> list[str]:
        return list(self.params.get("expand") or [])


Handler = Callable[[Call], dict[str, Any]]


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    params_class: str | None
    handler: Handler


ROUTES: list[Route] = []


def route(method: str, pattern: str, params_class: str | None) -> Callable[[Handler], Handler]:
    """Register a handler for `method pattern`; `{x}` in the pattern captures one path segment."""
    regex = re.compile("^" + re.sub(r"\{\w+\}", r"([^/]+)", pattern) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, regex, params_class, handler))
        return handler

    return register


def match(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    """The route for a request, loading the handler modules on first use."""
    _load()
    for candidate in ROUTES:
        if candidate.method == method:
            found = candidate.regex.match(path)
            if found:
                return candidate, found.groups()
    return None


def path_exists(path: str) -> bool:
    _load()
    return any(r.regex.match(path) for r in ROUTES)


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        from . import (  # noqa: F401
            catalog,
            coupons,
            customers,
            meters,
            payment_intents,
            refunds,
            sessions,
            subscriptions,
            webhook_endpoints,
        )

        _loaded = True


def apply_metadata(obj: dict[str, Any], value: Any) -> None:
    """Stripe's metadata update: merge keys, an empty value unsets a key, `""` clears all."""
    if value is None:
        return
    if value == "":
        obj["metadata"] = {}
        return
    merged = dict(obj.get("metadata") or {})
    for key, sub in value.items():
        if sub == "":
            merged.pop(key, None)
        else:
            merged[key] = sub
    obj["metadata"] = merged


def empty_to_none(value: Any) -> Any:
    """Stripe accepts `""` to unset a field."""
    return None if value == "" else value


def require(params: dict[str, Any], name: str) -> Any:
    if name not in params or params[name] in ("", None):
        raise StripeError(400, f"Missing required param: {name}.", param=name)
    return params[name]
