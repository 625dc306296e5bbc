"""End to end on Paddle: our API, the Paddle emulator's hosted checkout over HTTP, its signed
notifications to a live server (in order, shuffled, duplicated), and the local state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.core import mail
from rest_framework.test import APIClient

from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Order,
    OrderStatus,
    PaymentAttemptStatus,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from tests.checkout.conftest import CHECKOUT_URL, subscription_url
from tests.emulated import paddle_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def shop(paddle_emulator: Any, live_server: Any) -> Iterator[Any]:
    with paddle_site(
        paddle_emulator,
        live_server,
        CHECKOUT_SUCCESS_URL=f"{live_server.url}/done/",
        CHECKOUT_CANCEL_URL=f"{live_server.url}/canceled/",
    ):
        mail.outbox.clear()
        yield paddle_emulator


def checkout(api: APIClient, pricing: Any, quantity: int = 1) -> dict[str, Any]:
    response = api.post(CHECKOUT_URL, {"pricing": pricing.pk, "quantity": quantity})
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def press(session_url: str, button: str, **fields: str) -> requests.Response:
    """Press a button of the emulator's checkout page, as the customer's browser does."""
    page = requests.get(session_url, timeout=10)
    assert page.status_code == 200
    parts = urlsplit(session_url)
    action = urlunsplit(parts._replace(path=f"{parts.path}/{button}"))
    return requests.post(action, data=fields, timeout=10, allow_redirects=False)


def settle(emulator: Any, mode: str = "in-order") -> None:
    emulator.set_delivery_mode(mode)
    log = emulator.flush(timeout=30)
    emulator.pause_deliveries()
    assert [d for d in log if not d["ok"]] == []
    failed = WebhookEvent.objects.exclude(
        status__in=[WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED]
    )
    assert list(failed.values_list("type", "status", "last_error")) == []


@pytest.mark.parametrize("mode", ["in-order", "shuffled", "duplicates"])
def test_checkout_paid_then_change_then_cancel(
    shop: Any, api: APIClient, user: Any, monthly: Any, yearly: Any, mode: str
) -> None:
    session = checkout(api, monthly, quantity=2)
    assert urlsplit(session["url"]).netloc == urlsplit(shop.url).netloc

    paid = press(session["url"], "pay", country_code="DE")

    assert paid.status_code in (302, 303)
    assert urlsplit(paid.headers["Location"]).path == "/done/"
    settle(shop, mode)
    order = Order.objects.get(pk=session["order_id"])
    assert order.status == OrderStatus.PAID
    assert order.payment_attempts.get().status == PaymentAttemptStatus.SUCCEEDED
    subscription = Subscription.objects.get()
    assert order.subscription == subscription
    assert (subscription.status, subscription.quantity) == (SubscriptionStatus.ACTIVE, 2)
    assert subscription.customer.owner == user
    remote_id = ExternalSubscription.objects.get(provider="paddle").external_id
    [remote_customer] = list(shop.client().customers.list())
    assert ExternalCustomer.objects.get(provider="paddle").external_id == remote_customer.id
    if mode == "duplicates":
        assert WebhookEvent.objects.filter(provider="paddle").count() == len(shop.events())
    # One receipt for the first payment, whatever the delivery order or count.
    receipts = [m for m in mail.outbox if "Payment received" in m.subject]
    assert [m.to for m in receipts] == [[user.email]]
    # What Paddle charged: 2 x 15.00 EUR and the German VAT Paddle adds, as merchant of record.
    assert "35.70 EUR" in receipts[0].subject

    changed = api.patch(subscription_url(subscription.pk), {"pricing": yearly.pk, "quantity": 3})
    assert changed.status_code == 200, changed.content
    remote = shop.client().subscriptions.get(remote_id)
    assert remote.items[0].price.id == ExternalPricing.objects.get(pricing=yearly).external_id
    assert remote.items[0].quantity == 3
    settle(shop, mode)
    subscription.refresh_from_db()
    assert (subscription.pricing, subscription.quantity) == (yearly, 3)

    at_end = api.delete(subscription_url(subscription.pk))
    assert at_end.json()["cancel_at_period_end"] is True
    settle(shop, mode)
    assert shop.client().subscriptions.get(remote_id).scheduled_change.action == "cancel"
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is True

    now = api.delete(f"{subscription_url(subscription.pk)}?at_period_end=false")
    assert now.json()["status"] == "canceled"
    settle(shop, mode)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    assert str(shop.client().subscriptions.get(remote_id).status) == "canceled"


def test_one_time_checkout_paid(shop: Any, api: APIClient, one_time: Any) -> None:
    session = checkout(api, one_time)
    press(session["url"], "pay", country_code="DE")
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    assert (order.status, order.subscription) == (OrderStatus.PAID, None)
    assert not Subscription.objects.exists()
    assert [m.subject for m in mail.outbox] == ["Payment received: 99.00 EUR"]


def test_a_declined_card_leaves_the_order_payable(shop: Any, api: APIClient, monthly: Any) -> None:
    session = checkout(api, monthly)
    declined = press(session["url"], "decline", country_code="DE")
    assert declined.status_code == 402
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    assert order.status == OrderStatus.PENDING
    assert not Subscription.objects.exists()
    press(session["url"], "pay", country_code="DE")
    settle(shop)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE


DAY = 24 * 60 * 60


def test_renewals_paid_then_failed_end_past_due(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    session = checkout(api, monthly)
    press(session["url"], "pay", country_code="DE")
    settle(shop)
    subscription = Subscription.objects.get()
    first_end = subscription.current_period_end
    mail.outbox.clear()

    shop.advance_clock(32 * DAY)  # a renewal, paid with the card on file
    settle(shop, "shuffled")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_end > first_end
    assert [m for m in mail.outbox if "Payment received" in m.subject]

    customer = ExternalCustomer.objects.get(provider="paddle").external_id
    shop.set_payment_card(customer, declined=True)
    mail.outbox.clear()
    shop.advance_clock(31 * DAY)  # the next renewal fails
    settle(shop, "shuffled")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert [m for m in mail.outbox if "failed" in m.subject]
