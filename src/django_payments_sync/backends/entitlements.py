"""The provider contract's entitlement features (``Capability.ENTITLEMENTS``), a part of
:class:`~django_payments_sync.backends.base.BaseBackend`.

A product's local features (its ``metadata["features"]``) are pushed as the provider's
entitlement features (one per feature name, its ``lookup_key``) attached to the provider
product; the provider then tells which features a customer holds
(``EventKind.ENTITLEMENTS_UPDATED``).
"""

from __future__ import annotations

from collections.abc import Iterator

from django_payments_sync.backends.types import ProviderFeature, ProviderProductFeature
from django_payments_sync.exceptions import UnsupportedOperation


class EntitlementOperations:
    """What a backend with ``Capability.ENTITLEMENTS`` implements; the others refuse."""

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        raise NotImplementedError

    def list_entitlement_features(self) -> Iterator[ProviderFeature]:
        """Every entitlement feature of the account, in pages."""
        raise self._unsupported("entitlement features")

    def create_entitlement_feature(
        self, lookup_key: str, name: str, *, idempotency_key: str
    ) -> ProviderFeature:
        raise self._unsupported("entitlement features")

    def list_product_features(self, product_id: str) -> Iterator[ProviderProductFeature]:
        """The features attached to a provider product."""
        raise self._unsupported("entitlement features")

    def attach_product_feature(
        self, product_id: str, feature_id: str, *, idempotency_key: str
    ) -> ProviderProductFeature:
        raise self._unsupported("entitlement features")

    def detach_product_feature(self, product_id: str, product_feature_id: str) -> None:
        raise self._unsupported("entitlement features")
