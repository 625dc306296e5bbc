"""Product and price events: the host's catalog is the truth; a provider change is drift."""

from __future__ import annotations

from django_payments_sync.backends.types import (
    CATALOG_KINDS,
    EventKind,
    ProviderEvent,
    ProviderPrice,
    ProviderProduct,
)
from django_payments_sync.models import (
    ExternalPricing,
    ExternalProduct,
)
from django_payments_sync.sync.rows import record_deletion
from django_payments_sync.webhooks.handlers.registry import (
    EventResult,
    handles,
    read_object,
)


# --- catalog drift ------------------------------------------------------------------------
@handles(*CATALOG_KINDS)
def record_drift(event: ProviderEvent) -> EventResult:
    """Local products and prices are the truth: a provider change is recorded, never applied."""
    provider = event.provider
    if event.kind is EventKind.PRODUCT_DELETED:
        # Remembered even for a product not linked (yet): no push re-creates it unasked.
        record_deletion(
            provider, "product", event.object_id, deleted_at=event.created, event_id=event.id
        )
    if isinstance(event.data, ProviderProduct):
        state_p = event.data
        link_p = (
            ExternalProduct.objects.select_related("product")
            .filter(provider=provider, external_id=state_p.id)
            .first()
        )
        if link_p is None:
            return EventResult(ignored=True, note=f"drift: product {state_p.id} is not ours.")
        product = link_p.product
        diffs = [
            f"{name} {theirs!r} != {ours!r}"
            for name, theirs, ours in (
                ("name", state_p.name, product.name),
                (
                    "active",
                    state_p.active and event.kind is not EventKind.PRODUCT_DELETED,
                    product.active,
                ),
            )
            if theirs != ours
        ]
    else:
        state_r = read_object(event, ProviderPrice)
        link_r = (
            ExternalPricing.objects.select_related("pricing")
            .filter(provider=provider, external_id=state_r.id)
            .first()
        )
        if link_r is None:
            return EventResult(ignored=True, note=f"drift: price {state_r.id} is not ours.")
        pricing = link_r.pricing
        diffs = [
            f"{name} {theirs!r} != {ours!r}"
            for name, theirs, ours in (
                ("amount", state_r.amount, pricing.amount),
                ("currency", state_r.currency, pricing.currency),
                (
                    "active",
                    state_r.active and event.kind is not EventKind.PRICE_DELETED,
                    pricing.active,
                ),
            )
            if theirs != ours
        ]
    if not diffs:
        return EventResult(ignored=True, note="in sync with local data")
    return EventResult(
        ignored=True, note=f"drift: {event.object_type} {event.object_id}: " + "; ".join(diffs)
    )
