"""Billing meters and their meter events (in the shape of the pinned API's ``stripe.billing.Meter``
and ``MeterEvent``; the trimmed spec predates them).

A meter sums (``sum``), counts (``count``) or keeps the last (``last``) of its events' values
per customer. ``POST /v1/billing/meter_events`` takes ``event_name``, ``payload`` (the
customer under ``stripe_customer_id``, the value under ``value``), ``timestamp`` and
``identifier``: an identifier seen before is refused (``400 resource_already_exists``), so an
event is never counted twice. ``GET /v1/billing/meters/{id}/event_summaries`` answers the
aggregate for a customer between ``start_time`` and ``end_time``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import StripeError
from ..render import render
from ..store import Store, paginate
from . import Call, require, route

FORMULAS = ("sum", "count", "last")


@route("POST", "/v1/billing/meters", "billing.MeterCreateParams")
def create_meter(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    event_name = require(p, "event_name")
    formula = require(require(p, "default_aggregation"), "formula")
    if formula not in FORMULAS:
        raise StripeError(400, f"Invalid formula: {formula}.", param="default_aggregation[formula]")
    if any(m["event_name"] == event_name for m in store.all("billing.meter")):
        raise StripeError(
            400,
            f"A meter with event_name {event_name} already exists.",
            param="event_name",
            code="resource_already_exists",
        )
    now = store.now()
    mapping = p.get("customer_mapping") or {}
    meter = {
        "id": store.new_id("mtr_"),
        "object": "billing.meter",
        "created": now,
        "customer_mapping": {
            "event_payload_key": mapping.get("event_payload_key", "stripe_customer_id"),
            "type": "by_id",
        },
        "default_aggregation": {"formula": formula},
        "display_name": require(p, "display_name"),
        "event_name": event_name,
        "event_time_window": p.get("event_time_window"),
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": {
            "event_payload_key": (p.get("value_settings") or {}).get("event_payload_key", "value")
        },
    }
    store.add("billing.meter", meter)
    return render(store, meter, call.expand)


@route("GET", "/v1/billing/meters/{id}", "billing.MeterRetrieveParams")
def retrieve_meter(call: Call) -> dict[str, Any]:
    return render(call.store, call.store.get("billing.meter", call.args[0]), call.expand)


@route("GET", "/v1/billing/meters", "billing.MeterListParams")
def list_meters(call: Call) -> dict[str, Any]:
    rows = call.store.all("billing.meter")
    if "status" in call.params:
        rows = [m for m in rows if m["status"] == call.params["status"]]
    page = paginate(rows, call.params, "/v1/billing/meters", call.store)
    return render(call.store, page, call.expand)


@route("POST", "/v1/billing/meters/{id}/deactivate", "billing.MeterDeactivateParams")
def deactivate_meter(call: Call) -> dict[str, Any]:
    meter = call.store.get("billing.meter", call.args[0])
    meter["status"] = "inactive"
    meter["status_transitions"] = {"deactivated_at": call.store.now()}
    meter["updated"] = call.store.now()
    return render(call.store, meter, call.expand)


def _meter_named(store: Store, event_name: str) -> dict[str, Any]:
    for meter in store.all("billing.meter"):
        if meter["event_name"] == event_name and meter["status"] == "active":
            return meter
    raise StripeError(
        400, f"No active meter was found with event_name {event_name}.", param="event_name"
    )


@route("POST", "/v1/billing/meter_events", "billing.MeterEventCreateParams")
def create_meter_event(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    meter = _meter_named(store, require(p, "event_name"))
    payload = require(p, "payload")
    customer_key = meter["customer_mapping"]["event_payload_key"]
    value_key = meter["value_settings"]["event_payload_key"]
    store.get("customer", require(payload, customer_key))
    try:
        Decimal(str(payload.get(value_key, "1")))
    except InvalidOperation:
        raise StripeError(400, f"payload[{value_key}] must be a number.", param="payload") from None
    identifier = p.get("identifier") or store.new_id("mev_")
    seen = store.meta_for("meter_event_identifiers").setdefault("ids", set())
    if identifier in seen:
        raise StripeError(
            400,
            f"An event with identifier {identifier} already exists.",
            param="identifier",
            code="resource_already_exists",
        )
    seen.add(identifier)
    event = {
        "object": "billing.meter_event",
        "created": store.now(),
        "event_name": meter["event_name"],
        "identifier": identifier,
        "livemode": False,
        "payload": {str(k): str(v) for k, v in payload.items()},
        "timestamp": p.get("timestamp", store.now()),
    }
    store.meta_for(meter["id"]).setdefault("events", []).append(event)
    return dict(event)


def aggregate(store: Store, meter: dict[str, Any], customer: str, start: int, end: int) -> float:
    value_key = meter["value_settings"]["event_payload_key"]
    customer_key = meter["customer_mapping"]["event_payload_key"]
    events = [
        e
        for e in store.meta_for(meter["id"]).get("events", [])
        if e["payload"].get(customer_key) == customer and start <= e["timestamp"] < end
    ]
    formula = meter["default_aggregation"]["formula"]
    if formula == "count":
        return float(len(events))
    values = [float(e["payload"].get(value_key, "1")) for e in events]
    if formula == "last":
        return values[-1] if values else 0.0
    return float(sum(values))


@route("GET", "/v1/billing/meters/{id}/event_summaries", "billing.MeterEventSummaryListParams")
def event_summaries(call: Call) -> dict[str, Any]:
    store, p = call.store, call.params
    meter = store.get("billing.meter", call.args[0])
    customer = require(p, "customer")
    start, end = int(require(p, "start_time")), int(require(p, "end_time"))
    summary = {
        "id": f"mtrusg_{meter['id'][4:]}{start}",
        "object": "billing.meter_event_summary",
        "aggregated_value": aggregate(store, meter, customer, start, end),
        "end_time": end,
        "livemode": False,
        "meter": meter["id"],
        "start_time": start,
    }
    url = f"/v1/billing/meters/{meter['id']}/event_summaries"
    return paginate([summary], p, url, store)
