"""The emulator's subscription-lifecycle routes and events answer as Stripe's OpenAPI spec says:
invoice previews, paused collection and its invoices (see test_openapi_spec.py)."""

from __future__ import annotations

import pytest
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from .helpers import customer, price
from .test_openapi_spec import Recorder, component, errors, recorder, response_schema, spec

__all__ = ["recorder"]
DAY = 24 * 3600


def lifecycle_journey(emulator: StripeEmulator, client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Team"})
    monthly = price(client, 1500, product=product.id)
    yearly = price(client, 15000, "year", product=product.id)
    jane = customer(client)
    sub = client.v1.subscriptions.create(
        {"customer": jane.id, "items": [{"price": monthly.id, "quantity": 2}]}
    )
    item = sub["items"].data[0].id
    for behavior in ("create_prorations", "always_invoice", "none"):
        client.v1.invoices.create_preview(
            {
                "customer": jane.id,
                "subscription": sub.id,
                "subscription_details": {
                    "items": [{"id": item, "price": yearly.id, "quantity": 3}],
                    "proration_behavior": behavior,  # type: ignore[typeddict-item]
                },
            }
        )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.create_preview({"customer": jane.id})
    for behavior in ("keep_as_draft", "mark_uncollectible", "void"):
        client.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": behavior}})  # type: ignore[typeddict-item]
        emulator.advance_clock(31 * DAY)
    client.v1.subscriptions.update(
        sub.id,
        {"pause_collection": {"behavior": "void", "resumes_at": emulator.now() + 3 * DAY}},
    )
    emulator.advance_clock(4 * DAY)  # resumes by itself
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": "later"}})  # type: ignore[typeddict-item]

    # A card that needs authentication, then one that declines through every retry.
    sca = customer(client, "pm_card_authenticationRequired", email="sca@example.com")
    waiting = client.v1.subscriptions.create({"customer": sca.id, "items": [{"price": monthly.id}]})
    assert waiting.status == "incomplete"
    emulator.configure_dunning(retry_days=[1, 2], final="unpaid")
    client.v1.customers.update(
        jane.id, {"invoice_settings": {"default_payment_method": "pm_card_chargeDeclined"}}
    )
    emulator.advance_clock(40 * DAY)
    assert client.v1.subscriptions.retrieve(sub.id).status == "unpaid"
    client.v1.invoices.list({"customer": jane.id, "status": "open"})


def test_lifecycle_answers_and_events_match_the_spec(
    stripe_emulator: StripeEmulator, recorder: Recorder
) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    lifecycle_journey(stripe_emulator, client)

    problems = []
    paths = {path for _, path, _, _ in recorder.answers}
    assert "/v1/invoices/create_preview" in paths
    for method, path, status, body in recorder.answers:
        schema = response_schema(method, path, status)
        if schema is None:
            problems.append(f"{method} {path}: not in the spec")
            continue
        problems += [f"{method} {path} -> {status}: {e}" for e in errors(schema, body)[:5]]
    kinds = set()
    for event in stripe_emulator.events():
        kinds.add(event["type"])
        problems += [f"event {event['type']}: {e}" for e in errors(component("event"), event)[:5]]
        obj = event["data"]["object"]
        if obj["object"] in spec()["components"]["schemas"]:
            problems += [
                f"event {event['type']} ({obj['object']}): {e}"
                for e in errors(component(obj["object"]), obj)[:5]
            ]
    assert {
        "invoice.voided",
        "invoice.marked_uncollectible",
        "invoice.payment_action_required",
        "invoice.payment_failed",
    } <= kinds
    assert problems == [], "\n".join(problems)
