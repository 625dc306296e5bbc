"""Nobody reads or changes another customer's subscriptions or orders."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.models import Customer, Subscription, SubscriptionStatus
from tests.checkout.conftest import (
    CHECKOUT_URL,
    ORDERS_URL,
    PLANS_URL,
    SUBSCRIPTIONS_URL,
    subscription_url,
)
from tests.factories import OrderFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_subscription(other_user: Any, monthly: Any) -> Subscription:
    customer = Customer.objects.create(owner=other_user, email=other_user.email)
    OrderFactory(customer=customer, pricing=monthly)
    return SubscriptionFactory(customer=customer, pricing=monthly, status=SubscriptionStatus.ACTIVE)


def test_anonymous_requests_are_refused_except_the_catalog(monthly: Any) -> None:
    client = APIClient()
    assert client.get(PLANS_URL).status_code == 200
    for method, url in [
        ("post", CHECKOUT_URL),
        ("get", ORDERS_URL),
        ("get", SUBSCRIPTIONS_URL),
        ("post", SUBSCRIPTIONS_URL),
        ("get", subscription_url(1)),
        ("patch", subscription_url(1)),
        ("delete", subscription_url(1)),
    ]:
        assert getattr(client, method)(url).status_code == 403, (method, url)


def test_another_customers_subscription_answers_404_like_a_missing_one(
    api: Any, user: Any, locmem: Any, bobs_subscription: Subscription
) -> None:
    # Alice has a customer of her own too: 404 must not depend on having none.
    Customer.objects.create(owner=user, email=user.email)
    url = subscription_url(bobs_subscription.pk)
    missing = subscription_url(bobs_subscription.pk + 1000)
    for method, data in [("get", None), ("patch", {"quantity": 2}), ("delete", None)]:
        theirs = getattr(api, method)(url, data)
        nothing = getattr(api, method)(missing, data)
        assert theirs.status_code == nothing.status_code == 404, method
        assert theirs.json() == nothing.json()
    bobs_subscription.refresh_from_db()
    assert (bobs_subscription.quantity, bobs_subscription.status) == (1, "active")
    assert locmem.write_calls == []


def test_another_customers_order_cannot_be_canceled(
    api: Any, user: Any, bobs_subscription: Subscription
) -> None:
    Customer.objects.create(owner=user, email=user.email)
    order = bobs_subscription.customer.orders.get()

    response = api.post(f"{ORDERS_URL}{order.pk}/cancel/")

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "pending"


def test_lists_show_only_the_requesters_own(
    api: Any, other_api: Any, bobs_subscription: Subscription
) -> None:
    assert api.get(SUBSCRIPTIONS_URL).json() == []
    assert api.get(ORDERS_URL).json() == []
    theirs = other_api.get(SUBSCRIPTIONS_URL).json()
    assert [s["id"] for s in theirs] == [bobs_subscription.pk]
    assert len(other_api.get(ORDERS_URL).json()) == 1
    # Reading never creates a customer for the reader.
    assert not Customer.objects.filter(owner__username="alice").exists()


def test_own_subscription_and_orders_are_readable(
    other_api: Any, bobs_subscription: Subscription
) -> None:
    response = other_api.get(subscription_url(bobs_subscription.pk))
    assert response.status_code == 200
    assert response.json()["product"] == bobs_subscription.pricing.product.name
    order = other_api.get(ORDERS_URL).json()[0]
    assert order["amount"] == 1500
    assert order["status"] == "pending"
