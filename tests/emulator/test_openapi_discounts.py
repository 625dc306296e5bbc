"""The emulator's invoices and previews take their subscription's discounts, and answer as
Stripe's OpenAPI spec says (see test_openapi_spec.py): a percentage repeating for two months
discounts two monthly invoices and not the third, an amount off is shared between the lines,
a preview counts what is left without using it up."""

from __future__ import annotations

from typing import Any

import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from .helpers import customer, price
from .test_openapi_spec import (
    Recorder,
    component,
    errors,
    recorder,
    response_schema,
    schema_of,
    spec,
)

__all__ = ["recorder"]
DAY = 24 * 3600


def _code(client: stripe.StripeClient, code: str, **coupon: Any) -> stripe.PromotionCode:
    made = client.v1.coupons.create(coupon)  # type: ignore[arg-type]
    return client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": made.id}, "code": code}
    )


def _totals(invoice: Any) -> tuple[int, int, int, int]:
    off = sum(t["amount"] for t in invoice["total_discount_amounts"])
    return invoice["subtotal"], off, invoice["total"], invoice["amount_due"]


def test_a_repeating_percentage_discounts_two_monthly_invoices(
    stripe_emulator: StripeEmulator, recorder: Recorder
) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    promo = _code(client, "TWENTY", percent_off=20, duration="repeating", duration_in_months=2)
    monthly = price(client, 1500)
    jane = customer(client)
    sub = client.v1.subscriptions.create(
        {
            "customer": jane.id,
            "items": [{"price": monthly.id, "quantity": 2}],
            "discounts": [{"promotion_code": promo.id}],
        }
    )
    (discount_id,) = sub.discounts
    discount = client.v1.subscriptions.retrieve(sub.id, {"expand": ["discounts"]}).discounts[0]
    assert discount.end is not None
    assert discount.promotion_code == promo.id

    preview = client.v1.invoices.create_preview({"customer": jane.id, "subscription": sub.id})
    assert _totals(preview) == (3000, 600, 2400, 2400)
    stripe_emulator.advance_clock(31 * DAY)
    preview = client.v1.invoices.create_preview({"customer": jane.id, "subscription": sub.id})
    assert _totals(preview) == (3000, 0, 3000, 3000)  # the second invoice was its last
    stripe_emulator.advance_clock(31 * DAY)

    first, second, third = reversed(client.v1.invoices.list({"subscription": sub.id}).data)
    assert [_totals(i) for i in (first, second, third)] == [
        (3000, 600, 2400, 2400),
        (3000, 600, 2400, 2400),
        (3000, 0, 3000, 3000),
    ]
    assert (first.discounts, third.discounts) == ([discount_id], [])
    line = first.lines.data[0]
    assert (line.amount, [d.amount for d in line.discount_amounts]) == (3000, [600])
    assert first.amount_paid == 2400
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    _check_spec(stripe_emulator, recorder)


def test_an_amount_off_forever_and_a_once_coupon(
    stripe_emulator: StripeEmulator, recorder: Recorder
) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    forever = _code(client, "THREE", amount_off=300, currency="eur", duration="forever")
    once = _code(client, "HALF", percent_off=50, duration="once")
    product = client.v1.products.create({"name": "Team"})
    monthly = price(client, 1000, product=product.id)
    jane = customer(client)
    sub = client.v1.subscriptions.create({"customer": jane.id, "items": [{"price": monthly.id}]})
    assert _totals(client.v1.invoices.retrieve(str(sub.latest_invoice))) == (1000, 0, 1000, 1000)

    client.v1.subscriptions.update(sub.id, {"discounts": [{"promotion_code": once.id}]})
    stripe_emulator.advance_clock(31 * DAY)
    client.v1.subscriptions.update(sub.id, {"discounts": [{"promotion_code": forever.id}]})
    for _ in range(2):
        stripe_emulator.advance_clock(31 * DAY)
    invoices = list(reversed(client.v1.invoices.list({"subscription": sub.id}).data))
    assert [_totals(i) for i in invoices] == [
        (1000, 0, 1000, 1000),
        (1000, 500, 500, 500),
        (1000, 300, 700, 700),
        (1000, 300, 700, 700),
    ]
    _check_spec(stripe_emulator, recorder)


def _check_spec(emulator: StripeEmulator, recorder: Recorder) -> None:
    problems = []
    for method, path, status, body in recorder.answers:
        schema = response_schema(method, path, status)
        if schema is None:
            problems.append(f"{method} {path}: not in the spec")
            continue
        problems += [f"{method} {path} -> {status}: {e}" for e in errors(schema, body)[:5]]
    for event in emulator.events():
        problems += [f"event {event['type']}: {e}" for e in errors(component("event"), event)[:5]]
        obj = event["data"]["object"]
        if obj["object"] in spec()["components"]["schemas"]:
            problems += [
                f"event {event['type']} ({obj['object']}): {e}"
                for e in errors(schema_of(obj["object"]), obj)[:5]
            ]
    assert problems == [], "\n".join(problems)
