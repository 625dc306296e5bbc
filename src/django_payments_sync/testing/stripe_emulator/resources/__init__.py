"""Routing of `/v1/...` requests to handlers, and helpers the handlers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...emulator_kit.routing import Router
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


def _load() -> None:
    from . import (  # noqa: F401
        catalog,
        coupons,
        customers,
        entitlements,
        lifecycle,
        meters,
        payment_intents,
        portal,
        refunds,
        sessions,
        subscriptions,
        webhook_endpoints,
    )


ROUTER = Router(_load)
route = ROUTER.route
match = ROUTER.match
path_exists = ROUTER.path_exists


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
