"""Previews, seats and paused collection end to end against the Stripe emulator: our API, the
real SDK over HTTP, the emulator's webhooks back to a live server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.interactor import payments
from django_payments_sync.models import ExternalSubscription, Invoice, Subscription
from tests.checkout.conftest import subscription_url
from tests.checkout.test_emulator_e2e import DAY, checkout, press, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def subscribed(shop: Any, api: APIClient, pricing: Any, quantity: int = 1) -> Subscription:
    press(checkout(api, pricing, quantity=quantity)["url"], "pay")
    settle(shop)
    return Subscription.objects.get()


def test_preview_then_change_seats_at_the_invoice_the_preview_said(
    shop: Any,
    api: APIClient,
    monthly: Any,
) -> None:
    sub = subscribed(shop, api, monthly, quantity=2)
    shop.advance_clock(10 * DAY)
    url = f"{subscription_url(sub.pk)}preview/"
    preview = api.get(url, {"quantity": 4, "proration_behavior": "always_invoice"})
    assert preview.status_code == 200, preview.content
    body = preview.json()
    credit, charge = (line["amount"] for line in body["lines"])
    assert credit < 0 < charge
    assert body["total"] == credit + charge > 0
    remote = ExternalSubscription.objects.get().external_id
    assert shop.client().v1.subscriptions.retrieve(remote)["items"].data[0].quantity == 2
    upcoming = api.get(url, {"quantity": 4}).json()
    assert upcoming["lines"][-1]["amount"] == 6000
    assert upcoming["total"] == body["total"] + 6000

    changed = api.patch(
        subscription_url(sub.pk), {"quantity": 4, "proration_behavior": "always_invoice"}
    )
    assert changed.status_code == 200, changed.content
    settle(shop)
    sub.refresh_from_db()
    assert sub.quantity == 4
    billed = Invoice.objects.get(billing_reason="subscription_update")
    assert (billed.total, billed.status) == (body["total"], "paid")

    # Seats down by one, no proration: nothing billed now.
    shop.advance_clock(1)
    payments.decrement_quantity(sub, proration_behavior="none")
    settle(shop)
    sub.refresh_from_db()
    assert sub.quantity == 3
    assert Invoice.objects.filter(billing_reason="subscription_update").count() == 1


def test_pause_voids_the_renewals_then_resume_collects_again(
    shop: Any,
    api: APIClient,
    user: Any,
    monthly: Any,
) -> None:
    sub = subscribed(shop, api, monthly)
    resume_on = dt.datetime.fromtimestamp(shop.now() + 45 * DAY, tz=dt.UTC)
    paused = api.post(
        f"{subscription_url(sub.pk)}pause/",
        {"behavior": "void", "resumes_at": resume_on.isoformat()},
        format="json",
    )
    assert paused.status_code == 200, paused.content
    settle(shop)
    sub.refresh_from_db()
    assert (sub.pause_behavior, sub.resumes_at) == ("void", resume_on)
    assert not payments.has_active_subscription(user)

    shop.advance_clock(32 * DAY)  # a renewal while paused: its invoice is voided
    settle(shop)
    voided = Invoice.objects.get(billing_reason="subscription_cycle")
    assert (voided.status, voided.amount_paid) == ("void", 0)
    assert payments.has_active_subscription(user) is False

    shop.advance_clock(14 * DAY)  # resumes_at passes: collection resumes by itself
    settle(shop)
    sub.refresh_from_db()
    assert (sub.pause_behavior, sub.resumes_at, sub.status) == ("", None, "active")
    assert payments.has_active_subscription(user)

    api.post(f"{subscription_url(sub.pk)}pause/", {"behavior": "keep_as_draft"}, format="json")
    settle(shop)
    shop.advance_clock(1)
    resumed = api.post(f"{subscription_url(sub.pk)}resume/")
    assert resumed.status_code == 200, resumed.content
    settle(shop)
    sub.refresh_from_db()
    assert sub.pause_behavior == ""
