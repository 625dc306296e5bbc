"""Helpers of the webhook tests."""

from __future__ import annotations

from typing import Any

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.types import PriceData, ProductData
from django_payments_sync.models import ExternalPricing


def linked_price(backend: BaseBackend, pricing: Any, key: str = "linked") -> Any:
    """``pricing`` and its product created at the provider with the same terms, and linked."""
    product = backend.create_product(
        ProductData(local_id=str(pricing.product.pk), name=pricing.product.name),
        idempotency_key=f"{key}-product",
    )
    price = backend.create_price(
        PriceData(
            local_id=str(pricing.pk),
            product_id=product.id,
            amount=pricing.amount,
            currency=pricing.currency,
            interval=pricing.interval or None,
            interval_count=pricing.interval_count,
        ),
        idempotency_key=f"{key}-price",
    )
    ExternalPricing.objects.create(
        provider=backend.provider_name, external_id=price.id, pricing=pricing
    )
    return price
