"""Property: any permutation of an event stream, with any duplicates, ends in the in-order state."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_payments_sync.backends.stripe.events import stripe_event_kind
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.testing.webhooks import (
    sign_stripe_payload,
    stripe_checkout_session,
    stripe_customer,
    stripe_event,
    stripe_invoice,
    stripe_subscription,
)
from django_payments_sync.webhooks import process_webhook_request
from tests.factories import CustomerFactory, PricingFactory, UserFactory
from tests.webhooks.conftest import SECRET

pytestmark = pytest.mark.django_db

T0 = 1_760_000_000
STATUSES = ["incomplete", "trialing", "active", "past_due", "unpaid", "paused"]

# Three kinds of customer: linked before any event (A), linked by its customer.created
# metadata (B), and created from a checkout by an unknown email (C).
KINDS = ("linked", "metadata", "checkout")


@st.composite
def customer_timeline(draw: Any, kind: str) -> list[dict[str, Any]]:
    cus, sub = f"cus_{kind}", f"sub_{kind}"
    email = f"{kind}@example.com"
    t = T0 + draw(st.integers(0, 3))
    events = []
    if kind != "linked":
        meta = {"local_id": "LOCAL"} if kind == "metadata" else {}
        events.append(
            stripe_event("customer.created", stripe_customer(cus, email=email, **meta), created=t)
        )
    for n in range(draw(st.integers(0, 2))):
        t += 1
        name = draw(st.sampled_from(["Ann", "Bob", "Cy"])) + str(n)
        events.append(
            stripe_event(
                "customer.updated", stripe_customer(cus, email=email, name=name), created=t
            )
        )
    if not draw(st.booleans()) and kind != "checkout":
        return events
    t += draw(st.integers(0, 1))
    created_status = draw(st.sampled_from(["incomplete", "active", "trialing"]))

    def snapshot(status: str, quantity: int, **extra: Any) -> dict[str, Any]:
        return stripe_subscription(
            sub, customer=cus, price="price_P", status=status, quantity=quantity, **extra
        )

    events.append(
        stripe_event("customer.subscription.created", snapshot(created_status, 1), created=t)
    )
    if kind == "checkout":
        session = stripe_checkout_session(
            "cs_test_" + kind, customer=cus, email=email, subscription=sub
        )
        events.append(
            stripe_event("checkout.session.completed", session, created=t + draw(st.integers(0, 1)))
        )
    # Updates of one subscription are at least a second apart (same-second ones are ambiguous
    # even at the provider), except the first, whose type ranks after "created".
    for i in range(draw(st.integers(0, 4))):
        t += draw(st.integers(0 if i == 0 else 1, 3))
        status = draw(st.sampled_from(STATUSES))
        quantity = draw(st.integers(1, 5))
        cancel = draw(st.booleans())
        events.append(
            stripe_event(
                "customer.subscription.updated",
                snapshot(status, quantity, cancel_at_period_end=cancel),
                created=t,
            )
        )
        if draw(st.booleans()):
            paid = draw(st.booleans())
            invoice = stripe_invoice(
                f"in_{kind}_{i}", customer=cus, subscription=sub, status="paid" if paid else "open"
            )
            kind_of = "invoice.paid" if paid else "invoice.payment_failed"
            events.append(stripe_event(kind_of, invoice, created=t + draw(st.integers(0, 2))))
    if draw(st.booleans()):
        t += draw(st.integers(0, 2))
        events.append(
            stripe_event(
                "customer.subscription.deleted", snapshot("canceled", 1, ended_at=t), created=t
            )
        )
    return events


@st.composite
def delivery(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events in provider order, and a delivery: shuffled, with duplicates."""
    events = [e for kind in KINDS for e in draw(customer_timeline(kind))]
    in_order = sorted(
        events, key=lambda e: (e["created"], stripe_event_kind(e["type"]).rank, e["id"])
    )
    shuffled = draw(st.permutations(in_order))
    duplicates = draw(st.lists(st.sampled_from(in_order), max_size=6)) if in_order else []
    stream = list(shuffled)
    for dup in duplicates:
        stream.insert(draw(st.integers(0, len(stream))), dup)
    return in_order, stream


def final_state(stream: list[dict[str, Any]]) -> dict[str, Any]:
    """Deliver ``stream`` to a fresh world, read the local state, then undo everything.

    Undone by a savepoint of the test's transaction, not by an atomic block: on MySQL/MariaDB
    the webhook lock's transaction must be the outermost one (the test's own excepted).
    """
    undo = transaction.savepoint()
    try:
        pricing = PricingFactory(product__name="Plan P")
        ExternalPricing.objects.create(provider="stripe", external_id="price_P", pricing=pricing)
        linked = local_customer("linked")
        ExternalCustomer.objects.create(
            provider="stripe", external_id="cus_linked", customer=linked
        )
        by_metadata = local_customer("metadata")
        for event in stream:
            raw = stripe_event_with_local_id(event, by_metadata.pk)
            body, headers = sign_stripe_payload(raw, SECRET)
            process_webhook_request(body, headers)
        return read_state()
    finally:
        transaction.savepoint_rollback(undo)


def local_customer(kind: str) -> Customer:
    owner = UserFactory(username=kind, email=f"{kind}@example.com")
    return CustomerFactory(owner=owner, email=owner.email, name=kind.title())


def stripe_event_with_local_id(event: dict[str, Any], local_pk: int) -> dict[str, Any]:
    meta = event["data"]["object"].get("metadata") or {}
    if meta.get("payments_sync_id") == "LOCAL":
        event = {**event, "data": {**event["data"], "object": {**event["data"]["object"]}}}
        event["data"]["object"]["metadata"] = {**meta, "payments_sync_id": str(local_pk)}
    return event


def read_state() -> dict[str, Any]:
    return {
        "users": sorted(get_user_model().objects.values_list("email", flat=True)),
        "customers": sorted(
            (c.email, c.name, tuple(c.external_customers.values_list("external_id", flat=True)))
            for c in Customer.objects.all()
        ),
        "subscriptions": sorted(
            (
                s.external_subscriptions.get().external_id,
                s.customer.email,
                s.status,
                s.quantity,
                s.cancel_at_period_end,
                s.ended_at,
            )
            for s in Subscription.objects.all()
        ),
        "events": sorted(WebhookEvent.objects.values_list("event_id", "status")),
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(delivery())
def test_any_permutation_with_duplicates_ends_in_the_in_order_state(case):
    in_order, stream = case
    expected = final_state(in_order)
    assert {status for _, status in expected["events"]} <= {"processed", "ignored"}
    assert final_state(stream) == expected
