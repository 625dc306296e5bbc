"""Stripe Entitlements: features (``/v1/entitlements/features``) attached to products
(``/v1/products/{product}/features``), and the customer's active entitlement summary that
``entitlements.active_entitlement_summary.updated`` carries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import stripe

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.stripe import params as convert
from django_payments_sync.backends.types import (
    ProviderEntitlements,
    ProviderFeature,
    ProviderProductFeature,
)

PAGE_SIZE = 100


def stripe_feature_state(obj: Mapping[str, Any]) -> ProviderFeature:
    return ProviderFeature(
        id=str(obj["id"]),
        lookup_key=str(obj.get("lookup_key") or ""),
        name=str(obj.get("name") or ""),
        active=bool(obj.get("active", True)),
    )


def stripe_product_feature_state(obj: Mapping[str, Any]) -> ProviderProductFeature:
    feature = obj.get("entitlement_feature") or {}
    return ProviderProductFeature(
        id=str(obj["id"]),
        feature_id=str(feature.get("id") or ""),
        lookup_key=str(feature.get("lookup_key") or ""),
    )


def stripe_entitlements_state(obj: Mapping[str, Any]) -> ProviderEntitlements | None:
    """An ``entitlements.active_entitlement_summary`` as the neutral type (``None`` when it is
    not one: the handler then ignores the event, saying why)."""
    listed = obj.get("entitlements") or {}
    rows = listed.get("data") if isinstance(listed, Mapping) else None
    if not isinstance(rows, list) or not isinstance(obj.get("customer"), str):
        return None
    keys = sorted({str(row.get("lookup_key")) for row in rows if isinstance(row, Mapping)})
    return ProviderEntitlements(customer_id=obj["customer"], lookup_keys=tuple(keys))


class StripeEntitlements(BaseBackend):
    """``Capability.ENTITLEMENTS`` over ``self.client``."""

    client: stripe.StripeClient

    def list_entitlement_features(self) -> Iterator[ProviderFeature]:
        return convert.paged(
            lambda: self.client.v1.entitlements.features.list({"limit": PAGE_SIZE}),
            stripe_feature_state,
        )

    def create_entitlement_feature(
        self, lookup_key: str, name: str, *, idempotency_key: str
    ) -> ProviderFeature:
        with convert.translated_errors():
            obj = self.client.v1.entitlements.features.create(
                {"lookup_key": lookup_key, "name": name}, {"idempotency_key": idempotency_key}
            )
        return stripe_feature_state(convert.as_dict(obj))

    def list_product_features(self, product_id: str) -> Iterator[ProviderProductFeature]:
        return convert.paged(
            lambda: self.client.v1.products.features.list(product_id, {"limit": PAGE_SIZE}),
            stripe_product_feature_state,
        )

    def attach_product_feature(
        self, product_id: str, feature_id: str, *, idempotency_key: str
    ) -> ProviderProductFeature:
        with convert.translated_errors():
            obj = self.client.v1.products.features.create(
                product_id,
                {"entitlement_feature": feature_id},
                {"idempotency_key": idempotency_key},
            )
        return stripe_product_feature_state(convert.as_dict(obj))

    def detach_product_feature(self, product_id: str, product_feature_id: str) -> None:
        with convert.translated_errors():
            self.client.v1.products.features.delete(product_id, product_feature_id)
