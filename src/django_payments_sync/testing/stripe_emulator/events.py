"""Creating Stripe events for state changes and handing them to the webhook dispatcher."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .fixtures import template
from .render import diff, render

if TYPE_CHECKING:
    from .store import Store

# The request whose handling produced an event, recorded on the event as Stripe does.
_current = threading.local()


def set_request(request_id: str | None, idempotency_key: str | None) -> None:
    _current.request = (request_id, idempotency_key)


def api_version() -> str:
    from stripe._api_version import _ApiVersion

    return str(_ApiVersion.CURRENT)


def emit(
    store: Store,
    event_type: str,
    obj: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Record one event carrying a snapshot of `obj`; with `before`, only if something changed."""
    snapshot = render(store, obj)
    data: dict[str, Any] = {"object": snapshot}
    if before is not None:
        previous = diff(render(store, before), snapshot)
        if not previous:
            return None
        data["previous_attributes"] = previous
    event = template("event")
    request_id, idempotency_key = getattr(_current, "request", (None, None))
    event.update(
        {
            "id": store.new_id("evt_"),
            "api_version": api_version(),
            "created": store.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": event_type,
        }
    )
    store.add("event", event)
    for listener in store.event_listeners:
        listener(event)
    if event_type.startswith("customer.subscription.") and isinstance(obj.get("customer"), str):
        from .resources.entitlements import refresh_active_entitlements

        refresh_active_entitlements(store, obj["customer"])
    return event
