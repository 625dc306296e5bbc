"""The same flows as against Stripe, with the in-memory provider's events fed to the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from django_payments_sync import signals
from django_payments_sync.backends.types import CheckoutData
from django_payments_sync.interactor.provider import ensure_price_id
from django_payments_sync.models import (
    Customer,
    Order,
    OrderStatus,
    PaymentAttemptStatus,
    Subscription,
    SubscriptionStatus,
    WebhookEventStatus,
)
from tests.checkout.conftest import CHECKOUT_URL, SUBSCRIPTIONS_URL, deliver, subscription_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def received() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The host signals sent during the test, by name."""
    got: list[tuple[str, dict[str, Any]]] = []
    names = ["subscription_created", "subscription_updated", "subscription_canceled"]
    names += ["checkout_completed"]
    receivers = {}
    for name in names:

        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            got.append((_name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield got
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_checkout_paid_settles_order_attempt_and_subscription(
    api: Any, locmem: Any, monthly: Any, received: list[Any]
) -> None:
    session = api.post(CHECKOUT_URL, {"pricing": monthly.pk, "quantity": 2}).json()
    deliver(locmem)

    locmem.complete_checkout(session["id"])
    statuses = deliver(locmem, twice=True)

    assert WebhookEventStatus.FAILED not in statuses
    order = Order.objects.get(pk=session["order_id"])
    assert order.status == OrderStatus.PAID
    assert order.payment_attempts.get().status == PaymentAttemptStatus.SUCCEEDED
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.quantity) == (SubscriptionStatus.ACTIVE, 2)
    assert order.subscription == subscription
    assert [name for name, _ in received].count("checkout_completed") == 1
    assert [name for name, _ in received].count("subscription_created") == 1


def test_direct_changes_are_signalled_once_whichever_comes_first(
    api: Any, locmem: Any, monthly: Any, received: list[Any]
) -> None:
    created = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk}).json()
    deliver(locmem)
    api.patch(subscription_url(created["id"]), {"quantity": 3})
    api.delete(subscription_url(created["id"]))
    deliver(locmem, twice=True)

    names = [name for name, _ in received]
    assert names.count("subscription_created") == 1
    assert names.count("subscription_updated") == 2
    assert names.count("subscription_canceled") == 1
    canceled = next(kw for name, kw in received if name == "subscription_canceled")
    assert canceled["at_period_end"] is True
    subscription = Subscription.objects.get()
    assert (subscription.quantity, subscription.cancel_at_period_end) == (3, True)
    assert [m.subject for m in mail.outbox] == ["Your subscription was canceled"]


def test_a_checkout_by_an_unknown_email_creates_one_user(locmem: Any, monthly: Any) -> None:
    backend = locmem
    session = backend.create_checkout_session(
        CheckoutData(
            mode="subscription",
            price_id=ensure_price_id(monthly),
            quantity=1,
            success_url="https://shop.example/done",
            cancel_url="https://shop.example/back",
            customer_email="Someone@Example.com",
        ),
        idempotency_key="payment-link-1",
    )
    deliver(locmem)
    backend.complete_checkout(session.id)

    deliver(locmem, shuffle=True, twice=True)

    user = get_user_model().objects.get(email__iexact="someone@example.com")
    assert Customer.objects.get(owner=user).subscriptions.get().status == "active"
    assert [m.to for m in mail.outbox if m.subject.startswith("Welcome")] == [
        ["someone@example.com"]
    ]
