"""Webhook endpoints and events over the API."""

from __future__ import annotations

import copy
from typing import Any

from ..events import api_version
from ..fixtures import template
from ..render import render
from ..store import Store, created_filter, paginate
from . import Call, apply_metadata, empty_to_none, route


def add_endpoint(
    store: Store,
    url: str,
    enabled_events: list[str],
    *,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Register an endpoint; the returned object carries its signing `secret`."""
    endpoint = template("webhook_endpoint")
    endpoint.update(
        {
            "id": store.new_id("we_"),
            "api_version": version,
            "application": None,
            "created": store.now(),
            "description": description,
            "enabled_events": list(enabled_events),
            "livemode": False,
            "metadata": dict(metadata or {}),
            "secret": store.new_id("whsec_"),
            "status": "enabled",
            "url": url,
        }
    )
    store.add("webhook_endpoint", endpoint)
    return endpoint


def _public(endpoint: dict[str, Any]) -> dict[str, Any]:
    # Stripe shows the secret only in the answer to the create call.
    return {k: v for k, v in endpoint.items() if k != "secret"}


@route("POST", "/v1/webhook_endpoints", "WebhookEndpointCreateParams")
def create_endpoint(call: Call) -> dict[str, Any]:
    p = call.params
    endpoint = add_endpoint(
        call.store,
        p["url"],
        p["enabled_events"],
        description=p.get("description"),
        metadata=p.get("metadata") or {},
        version=p.get("api_version"),
    )
    return render(call.store, endpoint, call.expand)


@route("GET", "/v1/webhook_endpoints/{id}", "WebhookEndpointRetrieveParams")
def retrieve_endpoint(call: Call) -> dict[str, Any]:
    endpoint = call.store.get("webhook_endpoint", call.args[0])
    return _public(render(call.store, endpoint, call.expand))


@route("POST", "/v1/webhook_endpoints/{id}", "WebhookEndpointUpdateParams")
def update_endpoint(call: Call) -> dict[str, Any]:
    p = call.params
    endpoint = call.store.get("webhook_endpoint", call.args[0])
    if "url" in p:
        endpoint["url"] = p["url"]
    if "enabled_events" in p:
        endpoint["enabled_events"] = list(p["enabled_events"])
    if "description" in p:
        endpoint["description"] = empty_to_none(p["description"])
    if "disabled" in p:
        endpoint["status"] = "disabled" if p["disabled"] else "enabled"
    apply_metadata(endpoint, p.get("metadata"))
    return _public(copy.deepcopy(endpoint))


@route("DELETE", "/v1/webhook_endpoints/{id}", "WebhookEndpointDeleteParams")
def delete_endpoint(call: Call) -> dict[str, Any]:
    endpoint = call.store.get("webhook_endpoint", call.args[0])
    call.store.remove("webhook_endpoint", endpoint["id"])
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


@route("GET", "/v1/webhook_endpoints", "WebhookEndpointListParams")
def list_endpoints(call: Call) -> dict[str, Any]:
    page = paginate(
        call.store.all("webhook_endpoint"), call.params, "/v1/webhook_endpoints", call.store
    )
    page["data"] = [_public(copy.deepcopy(e)) for e in page["data"]]
    return page


@route("GET", "/v1/events/{id}", "EventRetrieveParams")
def retrieve_event(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("event", call.args[0]), call.expand)


@route("GET", "/v1/events", "EventListParams")
def list_events(call: Call) -> dict[str, Any]:
    p = call.params
    rows = call.store.all("event")
    if "type" in p:
        rows = [e for e in rows if _type_matches(e["type"], p["type"])]
    if "types" in p:
        rows = [e for e in rows if any(_type_matches(e["type"], t) for t in p["types"])]
    if "delivery_success" in p:
        rows = [e for e in rows if (e["pending_webhooks"] == 0) == p["delivery_success"]]
    rows = created_filter(rows, p.get("created"))
    return render(call.store, paginate(rows, p, "/v1/events", call.store), call.expand)


def _type_matches(event_type: str, pattern: str) -> bool:
    # Stripe accepts a trailing wildcard such as `customer.*`.
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


__all__ = ["add_endpoint", "api_version"]
