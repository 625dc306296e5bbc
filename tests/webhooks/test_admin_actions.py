"""Admin actions on webhook events: process, retry and replay, through the real admin views."""

from __future__ import annotations

import pytest
from django.urls import reverse

from django_payments_sync.models import ExternalCustomer, Subscription, WebhookEvent
from django_payments_sync.testing.webhooks import stripe_event, stripe_subscription
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def run_action(client, action, rows):
    url = reverse("admin:django_payments_sync_webhookevent_changelist")
    return client.post(
        url, {"action": action, "_selected_action": [r.pk for r in rows]}, follow=True
    )


def test_process_and_replay_actions(admin_client, post_event, linked_pricing):
    linked_pricing("price_A")
    event = stripe_event(
        "customer.subscription.created",
        stripe_subscription("sub_A", customer="cus_A", price="price_A"),
    )
    post_event(event)
    row = WebhookEvent.objects.get()
    assert row.status == "deferred"
    ExternalCustomer.objects.create(
        provider="stripe", external_id="cus_A", customer=CustomerFactory()
    )
    response = run_action(admin_client, "process_events", [row])
    assert response.status_code == 200
    assert "1 processed" in response.content.decode()
    assert Subscription.objects.get().status == "active"
    Subscription.objects.update(status="canceled")
    run_action(admin_client, "replay_events", [row])
    assert Subscription.objects.get().status == "active"


def test_retry_action_only_touches_failed_events(admin_client, post_event):
    event = stripe_event(
        "customer.subscription.created",
        stripe_subscription("sub_B", customer="cus_B", price="price_B"),
    )
    post_event(event)
    row = WebhookEvent.objects.get()
    response = run_action(admin_client, "retry_events", [row])
    assert "no events to process" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "deferred"
