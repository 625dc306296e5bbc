"""The emulator's billing meters and meter events answer in the pinned API's shape: the trimmed
OpenAPI spec predates them, so the installed SDK's resource classes (``stripe.billing.Meter``,
``MeterEvent``, ``MeterEventSummary``) are the ground truth: every field they declare that is
not Optional is there, with its type, and nothing they do not declare."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
import stripe
from stripe.billing import Meter, MeterEvent, MeterEventSummary

from django_payments_sync.testing.stripe_emulator import StripeEmulator


def problems(cls: type, answer: dict[str, Any], where: str) -> list[str]:
    own = inspect.get_annotations(cls)
    hints = {
        name: hint
        for name, hint in typing.get_type_hints(cls).items()
        if name in own
        and not name.startswith("_")
        and typing.get_origin(hint) is not typing.ClassVar
    }
    found = [
        f"{where}: {key} is not a field of {cls.__name__}" for key in answer if key not in hints
    ]
    for name, hint in hints.items():
        optional = type(None) in typing.get_args(hint)
        if name not in answer:
            if not optional:
                found.append(f"{where}: {name} missing")
            continue
        value = answer[name]
        if value is None and not optional:
            found.append(f"{where}: {name} is null")
        if hint in (int, str, bool) and not isinstance(value, hint):
            found.append(f"{where}: {name} is not a {hint.__name__}")
        nested = hint if isinstance(hint, type) and issubclass(hint, stripe.StripeObject) else None
        if nested is not None and isinstance(value, dict):
            found += problems(nested, value, f"{where}.{name}")
    return found


def test_meters_and_meter_events(stripe_emulator: StripeEmulator) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    customer = client.v1.customers.create({"email": "m@example.com"})
    meter = client.v1.billing.meters.create(
        {
            "display_name": "API calls",
            "event_name": "api_calls",
            "default_aggregation": {"formula": "sum"},
        }
    )
    event = client.v1.billing.meter_events.create(
        {"event_name": "api_calls", "payload": {"stripe_customer_id": customer.id, "value": "3"}}
    )
    listed = client.v1.billing.meters.list()
    now = stripe_emulator.now()
    summaries = client.v1.billing.meters.event_summaries.list(
        meter.id, {"customer": customer.id, "start_time": now - 60, "end_time": now + 60}
    )
    found = problems(Meter, meter.to_dict(), "meter")
    found += problems(MeterEvent, event.to_dict(), "meter_event")
    found += problems(Meter, listed.data[0].to_dict(), "meters.list")
    found += problems(MeterEventSummary, summaries.data[0].to_dict(), "event_summary")
    assert found == []
    assert summaries.data[0].aggregated_value == 3.0
    deactivated = client.v1.billing.meters.deactivate(meter.id)
    assert deactivated.status == "inactive"
    with pytest.raises(stripe.InvalidRequestError, match="No active meter"):
        client.v1.billing.meter_events.create(
            {"event_name": "api_calls", "payload": {"stripe_customer_id": customer.id}}
        )
