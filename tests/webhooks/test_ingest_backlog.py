"""An event whose key has a backlog is applied behind it, never before it.

The endpoint applies an event optimistically and inserts it only if no older event of its
ordering key is still to apply; otherwise the apply rolls back and the event is stored behind
the backlog, which is then applied in order. These tests leave a received event in the log
(as a task-mode endpoint or an interrupted worker does) and post a newer one of the same key.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from django_payments_sync.models import ExternalCustomer, WebhookEvent
from django_payments_sync.testing.webhooks import stripe_customer, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_760_000_000


def received(event: dict) -> WebhookEvent:
    """Store ``event`` as received and not applied, as the task-mode endpoint stores it."""
    return WebhookEvent.objects.create(
        provider="stripe",
        event_id=event["id"],
        type=event["type"],
        provider_created_at=datetime.fromtimestamp(event["created"], tz=UTC),
        ordering_key="customer:cus_B",
        payload=event,
    )


def test_a_newer_event_waits_for_the_older_received_one_and_both_apply_in_order(
    linked_customer, post_event
):
    linked_customer("cus_B", email="start@example.com")
    older = stripe_event(
        "customer.updated",
        stripe_customer("cus_B", email="older@example.com", name="Older"),
        created=T0,
    )
    received(older)
    newer = stripe_event(
        "customer.updated",
        stripe_customer("cus_B", email="newer@example.com", name="Newer"),
        created=T0 + 5,
    )

    response = post_event(newer)

    assert response.status_code == 200
    rows = {row.event_id: row for row in WebhookEvent.objects.all()}
    assert rows[older["id"]].status == "processed"
    assert rows[newer["id"]].status == "processed"
    # Applied in the provider's order: the older first, so the newer one's state is what stays.
    assert rows[older["id"]].processed_at <= rows[newer["id"]].processed_at
    assert ExternalCustomer.objects.get(external_id="cus_B").last_event_id == newer["id"]


def test_a_duplicate_of_a_received_event_is_answered_as_a_duplicate_and_applied_once(
    linked_customer, post_event
):
    linked_customer("cus_B", email="start@example.com")
    event = stripe_event(
        "customer.updated", stripe_customer("cus_B", email="e@example.com"), created=T0
    )
    received(event)

    response = post_event(event)

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
