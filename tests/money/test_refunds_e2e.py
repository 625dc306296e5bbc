"""Refunds end to end against the Stripe emulator: the real SDK over HTTP, its webhooks to a live
server (refund.created, charge.refunded, refund.updated), the order, the attempt and the mail."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from django.core import mail
from rest_framework.test import APIClient

from django_payments_sync.interactor import payments
from django_payments_sync.models import Order, Refund, WebhookEvent
from tests.checkout.test_emulator_e2e import checkout, press, settle
from tests.money.conftest import state

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_refunds_of_a_one_time_checkout(shop: Any, api: APIClient, one_time: Any) -> None:
    session = checkout(api, one_time)
    press(session["url"], "pay")
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    intent = order.payment_attempts.get().payment_external_id
    assert intent.startswith("pi_")
    mail.outbox.clear()

    payments.refund_order(order, 2000, reason="requested_by_customer")
    settle(shop)
    assert state(order) == ("partially_refunded", 2000, "partially_refunded", 2000)
    charge = shop.client().v1.charges.retrieve(
        str(shop.client().v1.payment_intents.retrieve(intent).latest_charge)
    )
    assert charge.amount_refunded == 2000
    # The refund's events were applied to the one row the call wrote.
    kinds = set(WebhookEvent.objects.values_list("type", flat=True))
    assert {"refund.created", "charge.refunded"} <= kinds
    assert Refund.objects.get().external_id.startswith("re_")

    # More than is left: our own check refuses before Stripe is asked.
    with pytest.raises(Exception, match="between 1 and 7900"):
        payments.refund_order(order, 8000)
    payments.refund_order(order)
    settle(shop)
    assert state(order) == ("refunded", 9900, "refunded", 9900)
    assert [m.subject for m in mail.outbox] == [
        "Refund issued: 20.00 EUR",
        "Refund issued: 79.00 EUR",
    ]
    # Stripe agrees, and refuses a third refund of the charge.
    with pytest.raises(stripe.InvalidRequestError, match="already been refunded"):
        shop.client().v1.refunds.create({"payment_intent": intent})


def test_a_refund_the_bank_returns(shop: Any, api: APIClient, one_time: Any) -> None:
    session = checkout(api, one_time)
    shop.pay_checkout_session(session["id"], payment_method="pm_card_refundFail")
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])

    refund = payments.refund_order(order)
    settle(shop)

    refund.refresh_from_db()
    assert (refund.status, refund.failure_reason) == ("failed", "lost_or_stolen_card")
    assert state(order) == ("paid", 0, "succeeded", 0)
    assert "refund.updated" in set(WebhookEvent.objects.values_list("type", flat=True))


def test_a_refund_made_in_the_dashboard(shop: Any, api: APIClient, one_time: Any) -> None:
    session = checkout(api, one_time)
    press(session["url"], "pay")
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    intent = order.payment_attempts.get().payment_external_id

    shop.client().v1.refunds.create({"payment_intent": intent, "amount": 900})
    settle(shop)

    assert state(order) == ("partially_refunded", 900, "partially_refunded", 900)
    assert Refund.objects.get().amount == 900
