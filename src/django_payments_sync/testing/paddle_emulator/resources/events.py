"""The events list (for replay), event types, and notification settings (destinations)."""

from __future__ import annotations

import secrets
from typing import Any

from .. import validate as v
from ..errors import invalid
from ..notifications import EVENT_TYPES, OTHER_EVENT_TYPES, event_of, subscribed_event
from ..store import paginate
from . import Call, Listed, route


@route("GET", "/events")
def list_events(call: Call) -> Listed:
    rows = call.store.all("event")
    wanted = call.filter("event_type")
    if wanted:
        rows = [r for r in rows if r["event_type"] in wanted]
    page, pagination = paginate(call.store, rows, call.path, call.query)
    return Listed([event_of(r) for r in page], pagination)


@route("GET", "/event-types")
def list_event_types(call: Call) -> Listed:
    rows = [{"id": name, **subscribed_event(name)} for name in EVENT_TYPES]
    data = [{k: r[k] for k in ("name", "description", "group", "available_versions")} for r in rows]
    return Listed(
        data, {"per_page": len(data), "next": None, "has_more": False, "estimated_total": len(data)}
    )


def _events(name: str, value: Any) -> list[dict[str, Any]]:
    names = v.listof(v.string)(name, value)
    unknown = [n for n in names if n not in EVENT_TYPES and n not in OTHER_EVENT_TYPES]
    if unknown:
        raise invalid(name, f"unknown event types: {', '.join(unknown)}")
    return [subscribed_event(n) for n in names]


_SETTING = {
    "description": v.text,
    "type": v.enum("url", "email"),
    "destination": v.text,
    "include_sensitive_fields": v.boolean,
    "subscribed_events": _events,
    "api_version": v.positive,
    "traffic_source": v.enum("platform", "simulation", "all"),
    "active": v.boolean,
}


def new_setting(store: Any, values: dict[str, Any]) -> dict[str, Any]:
    setting_id = store.new_id("ntfset")
    setting = {
        "id": setting_id,
        "description": values["description"],
        "type": values["type"],
        "destination": values["destination"],
        "active": True,
        "api_version": values.get("api_version", 1),
        "include_sensitive_fields": values.get("include_sensitive_fields", False),
        "subscribed_events": values["subscribed_events"],
        "endpoint_secret_key": f"pdl_{setting_id}_{secrets.token_urlsafe(24)[:32]}",
        "traffic_source": values.get("traffic_source", "platform"),
    }
    store.add("notification_setting", setting)
    return setting


@route("POST", "/notification-settings")
def create_setting(call: Call) -> dict[str, Any]:
    values = v.fields(
        call.body,
        {k: c for k, c in _SETTING.items() if k != "active"},
        ("description", "type", "destination", "subscribed_events"),
    )
    return new_setting(call.store, values)


@route("GET", "/notification-settings")
def list_settings(call: Call) -> Listed:
    rows = call.store.all("notification_setting")
    active = call.query.get("active")
    if active in ("true", "false"):
        rows = [r for r in rows if r["active"] == (active == "true")]
    page, pagination = paginate(call.store, rows, call.path, call.query)
    return Listed(page, pagination)


@route("GET", "/notification-settings/{id}")
def get_setting(call: Call) -> dict[str, Any]:
    return call.store.get("notification_setting", call.args[0])


@route("PATCH", "/notification-settings/{id}")
def update_setting(call: Call) -> dict[str, Any]:
    setting = call.store.get("notification_setting", call.args[0])
    values = v.fields(call.body, {k: c for k, c in _SETTING.items() if k != "type"})
    setting.update(values)
    return setting


@route("DELETE", "/notification-settings/{id}")
def delete_setting(call: Call) -> None:
    setting = call.store.get("notification_setting", call.args[0])
    store = call.store
    store.objects.pop(setting["id"])
    store.kinds.pop(setting["id"])
    store.order["notification_setting"].remove(setting["id"])
