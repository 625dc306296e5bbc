"""Stripe Entitlements end to end against the Stripe emulator, over HTTP with the stripe SDK:
the push attaches each product's features as entitlement features, a paid checkout makes
Stripe announce the customer's active entitlements (a signed
``entitlements.active_entitlement_summary.updated`` to the live server), and with
``ENTITLEMENTS_SOURCE = "provider"`` those are the features ``has_feature`` answers with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.interactor import payments
from django_payments_sync.models import Customer, ExternalProduct, Subscription, WebhookEvent
from django_payments_sync.sync.push import push_all
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
        ENTITLEMENTS_SOURCE="provider",
    ):
        yield stripe_emulator


def attached(emulator: Any, product: Any) -> list[str]:
    client = emulator.client(max_network_retries=0)
    link = ExternalProduct.objects.get(product=product)
    return sorted(
        pf.entitlement_feature.lookup_key
        for pf in client.v1.products.features.list(link.external_id).data
    )


def test_pushed_features_become_the_customers_active_entitlements(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    push_all(customers=False)
    assert attached(shop, monthly.product) == ["API", "Support"]
    client = shop.client(max_network_retries=0)
    assert sorted(f.lookup_key for f in client.v1.entitlements.features.list().data) == [
        "API",
        "Support",
    ]

    # A feature listed locally but not at Stripe is not granted with the provider as source
    # (changed without a save, which would push it at once).
    features = {**monthly.product.metadata, "features": ["API", "Support", "beta"]}
    type(monthly.product).objects.filter(pk=monthly.product.pk).update(metadata=features)

    press(checkout(api, monthly)["url"], "pay")
    settle(shop)

    assert WebhookEvent.objects.filter(
        type="entitlements.active_entitlement_summary.updated", status="processed"
    ).exists()
    assert Customer.objects.get().provider_entitlements == ["API", "Support"]
    body = api.get("/api/payment/entitlements/").json()
    assert body == {
        "features": ["API", "Support", "api"],
        "limits": {"seats": 10},
        "plans": [monthly.product_id],
        "free_tier": False,
    }
    owner = type(user).objects.get(pk=user.pk)
    assert payments.has_feature(owner, "Support")
    assert not payments.has_feature(owner, "beta")

    # The next push attaches "beta"; pushing again changes nothing at Stripe.
    report = push_all(customers=False)
    assert [r.detail for r in report.results if r.object_type == "product_features"] == ["+beta"]
    assert attached(shop, monthly.product) == ["API", "Support", "beta"]
    again = push_all(customers=False)
    assert [r for r in again.results if r.object_type == "product_features"] == []

    # Cancelled: Stripe takes the entitlements back.
    payments.cancel_subscription(Subscription.objects.get(), at_period_end=False)
    settle(shop)
    assert Customer.objects.get().provider_entitlements == []
    assert api.get("/api/payment/entitlements/").json()["features"] == ["api"]


def test_a_feature_dropped_locally_is_detached_at_stripe(shop: Any, monthly: Any) -> None:
    push_all(customers=False)
    # Changed without a save (a save pushes at once): the next push detaches it.
    type(monthly.product).objects.filter(pk=monthly.product.pk).update(
        metadata={"features": ["Support"], "seats": "10"}
    )
    report = push_all(customers=False)
    assert [r.detail for r in report.results if r.object_type == "product_features"] == ["-API"]
    assert attached(shop, monthly.product) == ["Support"]
    # Detached at Stripe behind our back: the hash says unchanged, a forced compare repairs.
    link = ExternalProduct.objects.get(product=monthly.product)
    client = shop.client(max_network_retries=0)
    for pf in client.v1.products.features.list(link.external_id).data:
        client.v1.products.features.delete(link.external_id, pf.id)
    ExternalProduct.objects.filter(pk=link.pk).update(features_hash="")
    push_all(customers=False)
    assert attached(shop, monthly.product) == ["Support"]
