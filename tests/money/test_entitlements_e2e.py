"""Entitlements end to end against the Stripe emulator: a checkout paid on its hosted page, its
webhooks to a live server, and the plan's features granted, then taken at cancellation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.interactor import payments
from django_payments_sync.models import Subscription
from tests.checkout.test_emulator_e2e import checkout, press, settle
from tests.emulated import emulated_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def shop(stripe_emulator: Any, live_server: Any) -> Iterator[Any]:
    with emulated_site(
        stripe_emulator,
        live_server,
        CHECKOUT_SUCCESS_URL=f"{live_server.url}/done/",
        CHECKOUT_CANCEL_URL=f"{live_server.url}/canceled/",
        FREE_TIER={"FEATURES": ["api"], "LIMITS": {"seats": 1}},
    ):
        yield stripe_emulator


def test_a_paid_checkout_grants_the_plans_features(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    before = api.get("/api/payment/entitlements/").json()
    assert before == {"features": ["api"], "limits": {"seats": 1}, "plans": [], "free_tier": True}

    press(checkout(api, monthly)["url"], "pay")
    settle(shop)

    after = api.get("/api/payment/entitlements/").json()
    assert after == {
        "features": ["API", "Support", "api"],
        "limits": {"seats": 10},
        "plans": [monthly.product_id],
        "free_tier": False,
    }
    owner = type(user).objects.get(pk=user.pk)
    assert payments.has_feature(owner, "Support")
    assert payments.limit(owner, "seats") == 10

    payments.cancel_subscription(Subscription.objects.get(), at_period_end=False)
    settle(shop)
    assert Subscription.objects.get().status == "canceled"
    assert api.get("/api/payment/entitlements/").json()["free_tier"] is True
