"""The public plan catalog: shape, what it leaves out, caching and invalidation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from django_payments_sync.interactor.plans import features_from_metadata
from tests.checkout.conftest import LOCMEM_SETTINGS, PLANS_URL
from tests.factories import PricingFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_the_catalog_lists_active_products_with_active_prices_features_and_limits(
    monthly: Any, yearly: Any, one_time: Any, django_assert_max_num_queries: Any
) -> None:
    PricingFactory(product=monthly.product, amount=1, active=False)
    ProductFactory(name="Hidden", active=False)
    ProductFactory(name="No price")

    with django_assert_max_num_queries(2):
        response = APIClient().get(PLANS_URL)

    assert response.status_code == 200
    plans = response.json()
    assert [p["name"] for p in plans] == ["Team", "Setup"]
    team = plans[0]
    assert team["features"] == ["API", "Support"]
    assert team["limits"] == {"seats": 10}
    assert [(p["id"], p["amount"], p["interval"]) for p in team["prices"]] == [
        (monthly.pk, 1500, "month"),
        (yearly.pk, 15000, "year"),
    ]
    assert team["prices"][0]["max_quantity"] == 10
    assert plans[1]["prices"][0]["interval"] is None
    assert plans[1]["prices"][0]["recurring"] is False


def test_the_catalog_is_cached_and_invalidated_on_change(
    monthly: Any, django_assert_num_queries: Any
) -> None:
    client = APIClient()
    client.get(PLANS_URL)
    with django_assert_num_queries(0):
        assert client.get(PLANS_URL).json()[0]["prices"][0]["amount"] == 1500

    monthly.amount = 1700
    monthly.save()
    assert client.get(PLANS_URL).json()[0]["prices"][0]["amount"] == 1700

    monthly.product.name = "Teams"
    monthly.product.save()
    assert client.get(PLANS_URL).json()[0]["name"] == "Teams"

    monthly.delete()
    assert client.get(PLANS_URL).json() == []


def test_a_zero_timeout_disables_the_cache(monthly: Any, django_assert_num_queries: Any) -> None:
    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "PLANS_CACHE_TIMEOUT": 0}):
        APIClient().get(PLANS_URL)
        with django_assert_num_queries(2):
            APIClient().get(PLANS_URL)


@pytest.mark.parametrize(
    ("metadata", "features", "limits"),
    [
        ({}, [], {}),
        ({"features": "API, SSO ,", "seats": "5"}, ["API", "SSO"], {"seats": 5}),
        ({"features": "One\nTwo, three"}, ["One", "Two, three"], {}),
        (
            {"sso": "true", "storage": "10 GB", "payments_sync_id": "3"},
            [],
            {"sso": True, "storage": "10 GB"},
        ),
    ],
)
def test_features_and_limits_from_metadata(
    metadata: dict[str, Any], features: list[str], limits: dict[str, Any]
) -> None:
    assert features_from_metadata(metadata) == (features, limits)


def test_the_schema_describes_the_api_cleanly() -> None:
    response = APIClient().get("/api/payment/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("plans/", "checkout/", "orders/", "subscriptions/", "subscriptions/{id}/"):
        assert f"/api/payment/{path}" in paths
    checkout = paths["/api/payment/checkout/"]["post"]
    assert "201" in checkout["responses"]
    schemas = response.json()["components"]["schemas"]
    assert schemas["CheckoutRequest"]["properties"]["pricing"]["type"] == "integer"
