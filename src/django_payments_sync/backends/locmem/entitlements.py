"""The in-memory backend: entitlement features attached to products, and a test helper that
plays the provider announcing the features a customer holds (``announce_entitlements``)."""

from __future__ import annotations

from collections.abc import Iterator

from django_payments_sync.backends.locmem.state import LocmemState
from django_payments_sync.backends.types import (
    EventKind,
    ProviderEntitlements,
    ProviderFeature,
    ProviderProductFeature,
)
from django_payments_sync.exceptions import PermanentProviderError


class LocmemEntitlements(LocmemState):
    def reset(self) -> None:
        super().reset()
        self.features: dict[str, ProviderFeature] = {}
        #: provider product id -> its attached features, by product feature id
        self.product_features: dict[str, dict[str, ProviderProductFeature]] = {}

    def list_entitlement_features(self) -> Iterator[ProviderFeature]:
        self._record("list_entitlement_features", (), {})
        return iter(list(self.features.values()))

    def create_entitlement_feature(
        self, lookup_key: str, name: str, *, idempotency_key: str
    ) -> ProviderFeature:
        self._record(
            "create_entitlement_feature", (lookup_key, name), {"idempotency_key": idempotency_key}
        )
        request = (lookup_key, name)
        earlier = self._idempotent(idempotency_key, "create_entitlement_feature", request)
        if earlier is not None:
            return earlier
        if any(f.lookup_key == lookup_key for f in self.features.values()):
            raise PermanentProviderError(
                f"A feature with lookup_key {lookup_key} already exists.", code="invalid_request"
            )
        feature = ProviderFeature(id=self._new_id("feat"), lookup_key=lookup_key, name=name)
        self.features[feature.id] = feature
        self._remember(idempotency_key, "create_entitlement_feature", request, feature)
        return feature

    def list_product_features(self, product_id: str) -> Iterator[ProviderProductFeature]:
        self._record("list_product_features", (product_id,), {})
        self._get(self.products, product_id, "product")
        return iter(list(self.product_features.get(product_id, {}).values()))

    def attach_product_feature(
        self, product_id: str, feature_id: str, *, idempotency_key: str
    ) -> ProviderProductFeature:
        self._record(
            "attach_product_feature", (product_id, feature_id), {"idempotency_key": idempotency_key}
        )
        request = (product_id, feature_id)
        earlier = self._idempotent(idempotency_key, "attach_product_feature", request)
        if earlier is not None:
            return earlier
        self._get(self.products, product_id, "product")
        feature = self._get(self.features, feature_id, "feature")
        attached = ProviderProductFeature(
            id=self._new_id("prodft"), feature_id=feature.id, lookup_key=feature.lookup_key
        )
        self.product_features.setdefault(product_id, {})[attached.id] = attached
        self._remember(idempotency_key, "attach_product_feature", request, attached)
        return attached

    def detach_product_feature(self, product_id: str, product_feature_id: str) -> None:
        self._record("detach_product_feature", (product_id, product_feature_id), {})
        self._get(self.product_features.get(product_id, {}), product_feature_id, "product feature")
        del self.product_features[product_id][product_feature_id]

    def announce_entitlements(self, customer_id: str, lookup_keys: list[str]) -> None:
        """Play the provider telling which features ``customer_id`` now holds (a test helper)."""
        self._get(self.customers, customer_id, "customer")
        summary = ProviderEntitlements(customer_id=customer_id, lookup_keys=tuple(lookup_keys))
        self._emit(
            EventKind.ENTITLEMENTS_UPDATED,
            "entitlements",
            {"id": customer_id, **vars(summary)},
            customer_id,
        )
