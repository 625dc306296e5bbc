"""Metered prices at the Stripe emulator, through the SDK: a price with
``recurring[usage_type]=metered`` names an active billing meter; its subscription item has no
quantity; the first invoice bills it nothing, the upcoming invoice bills the usage so far and the
renewal the period's usage (``unit_amount`` x the meter's aggregate for the customer, with that
usage as the line's quantity). Every answer and event is checked against Stripe's spec (and the
price's ``recurring`` against the pinned SDK's ``stripe.Price.Recurring``: the trimmed spec's
``recurring`` predates ``meter``)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from .helpers import customer
from .test_meters_shape import problems
from .test_openapi_spec import Recorder, component, errors, response_schema, schema_of

DAY = 86_400


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    recorder.install(monkeypatch)
    return recorder


def meter(
    client: stripe.StripeClient, event_name: str, formula: str = "sum"
) -> stripe.billing.Meter:
    return client.v1.billing.meters.create(
        {
            "display_name": event_name,
            "event_name": event_name,
            "default_aggregation": {"formula": formula},  # type: ignore[typeddict-item]
        }
    )


def metered_price(client: stripe.StripeClient, meter_id: str, amount: int = 5) -> stripe.Price:
    return client.v1.prices.create(
        {
            "currency": "eur",
            "unit_amount": amount,
            "product_data": {"name": "API"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id},
        }
    )


def use(client: stripe.StripeClient, event_name: str, customer_id: str, value: int) -> None:
    client.v1.billing.meter_events.create(
        {
            "event_name": event_name,
            "payload": {"stripe_customer_id": customer_id, "value": str(value)},
        }
    )


def spec_problems(emulator: StripeEmulator, recorder: Recorder) -> list[str]:
    found = []
    for method, path, status, body in recorder.answers:
        if path.startswith("/v1/billing/"):
            continue  # newer than the trimmed spec: see test_meters_shape
        schema = response_schema(method, path, status)
        assert schema is not None, f"{method} {path}: not in the spec"
        found += [f"{method} {path} -> {status}: {e}" for e in errors(schema, body)[:5]]
        if body.get("object") == "price" and body.get("recurring"):
            found += problems(stripe.Price.Recurring, body["recurring"], f"{path}.recurring")
    for event in emulator.events():
        found += [f"event {event['type']}: {e}" for e in errors(component("event"), event)[:5]]
        obj = event["data"]["object"]
        found += [f"event {event['type']}: {e}" for e in errors(schema_of(obj["object"]), obj)[:5]]
    return found


def test_a_metered_price_bills_the_meters_usage(
    stripe_emulator: StripeEmulator, recorder: Recorder
) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    calls = meter(client, "api_calls")
    price = metered_price(client, calls.id, amount=5)
    assert (price.recurring.usage_type, price.recurring.meter) == ("metered", calls.id)
    assert client.v1.prices.retrieve(price.id).recurring.meter == calls.id
    jane = customer(client)
    sub = client.v1.subscriptions.create({"customer": jane.id, "items": [{"price": price.id}]})
    assert sub.status == "active"
    item = sub["items"].data[0]
    assert "quantity" not in item.to_dict()  # Stripe leaves it out on a metered item
    first = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (first.amount_due, first.lines.data[0].quantity) == (0, 0)

    for value in (3, 4, 10):
        use(client, "api_calls", jane.id, value)
    upcoming = client.v1.invoices.create_preview({"customer": jane.id, "subscription": sub.id})
    line = upcoming.lines.data[0]
    assert (line.quantity, line.amount, upcoming.amount_due) == (17, 85, 85)

    stripe_emulator.advance_clock(31 * DAY)  # the period ends: its usage is invoiced
    renewal = client.v1.invoices.retrieve(
        str(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    )
    assert (renewal.billing_reason, renewal.amount_due, renewal.status) == (
        "subscription_cycle",
        85,
        "paid",
    )
    assert renewal.lines.data[0].quantity == 17
    assert renewal.lines.data[0].period.end == renewal.period_end
    # The new period has counted nothing yet.
    upcoming = client.v1.invoices.create_preview({"customer": jane.id, "subscription": sub.id})
    assert upcoming.amount_due == 0

    assert spec_problems(stripe_emulator, recorder) == []


@pytest.mark.parametrize(("formula", "billed"), [("count", 3 * 5), ("last", 10 * 5)])
def test_the_meters_aggregation_decides_the_quantity(
    stripe_emulator: StripeEmulator, formula: str, billed: int
) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    seats = meter(client, "seats", formula)
    price = metered_price(client, seats.id, amount=5)
    jane = customer(client)
    sub = client.v1.subscriptions.create({"customer": jane.id, "items": [{"price": price.id}]})
    for value in (3, 4, 10):
        use(client, "seats", jane.id, value)
    upcoming = client.v1.invoices.create_preview({"customer": jane.id, "subscription": sub.id})
    assert upcoming.amount_due == billed


def test_what_stripe_refuses(stripe_emulator: StripeEmulator, recorder: Recorder) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    calls = meter(client, "api_calls")
    price = metered_price(client, calls.id)
    jane = customer(client)
    refused: list[Any] = [
        # A metered price needs a meter; a licensed one takes none; the meter must exist.
        lambda: client.v1.prices.create(
            {
                "currency": "eur",
                "unit_amount": 5,
                "product_data": {"name": "API"},
                "recurring": {"interval": "month", "usage_type": "metered"},
            }
        ),
        lambda: client.v1.prices.create(
            {
                "currency": "eur",
                "unit_amount": 5,
                "product_data": {"name": "API"},
                "recurring": {"interval": "month", "meter": calls.id},
            }
        ),
        lambda: metered_price(client, "mtr_missing"),
        # No quantity on a metered item, in a subscription or a checkout.
        lambda: client.v1.subscriptions.create(
            {"customer": jane.id, "items": [{"price": price.id, "quantity": 2}]}
        ),
        lambda: client.v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "https://shop.example/ok",
            }
        ),
    ]
    for call in refused:
        with pytest.raises(stripe.InvalidRequestError):
            call()
    client.v1.billing.meters.deactivate(calls.id)
    with pytest.raises(stripe.InvalidRequestError, match="inactive"):
        metered_price(client, calls.id)
    # A checkout without the quantity is fine.
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price.id}],
            "success_url": "https://shop.example/ok",
        }
    )
    assert session.amount_total == 0
    assert client.v1.checkout.sessions.line_items.list(session.id).data[0].quantity is None
    assert spec_problems(stripe_emulator, recorder) == []
