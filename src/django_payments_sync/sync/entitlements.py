"""Pushing a product's features as the provider's entitlement features
(``Capability.ENTITLEMENTS``; Stripe Entitlements).

Each local feature name (``metadata["features"]``, as the plan catalog reads it) is one provider
feature whose ``lookup_key`` is the name, created once and shared by every product that lists
it; a product's features are attached to its provider product, and those it no longer lists
are detached. ``ExternalProduct.features_hash`` remembers what was attached last, so unchanged
features cost no call; a changed product is compared with what the provider has attached (a
push is idempotent, and repairs a product changed at the provider).
"""

from __future__ import annotations

import uuid
from typing import Any

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import Capability, ProviderFeature
from django_payments_sync.exceptions import ProviderError
from django_payments_sync.models import ExternalProduct
from django_payments_sync.models.features import features_from_metadata
from django_payments_sync.sync.rows import SyncAction, SyncResult
from django_payments_sync.sync.snapshots import digest, idempotency_key

OBJECT_TYPE = "product_features"


def wanted_features(product: Any) -> list[str]:
    """The feature names of ``product``, sorted, each once."""
    features, _limits = features_from_metadata(dict(product.metadata or {}))
    return sorted(set(features))


def features_hash(names: list[str]) -> str:
    """What ``features_hash`` stores for ``names`` (empty for none: never attached)."""
    return digest(names) if names else ""


def push_features(
    *, backend: BaseBackend | None = None, dry_run: bool = False, product_id: Any = None
) -> list[SyncResult]:
    """Attach each pushed product's features to its provider product, detach the others.

    ``product_id``: that product only (what a product's save pushes after commit). Products
    not pushed yet (no provider link) are left for after their push. Raises
    :class:`~django_payments_sync.exceptions.UnsupportedOperation` for a backend without
    ``Capability.ENTITLEMENTS``; ``push_all`` skips them.
    """
    backend = backend or get_backend()
    if not backend.supports(Capability.ENTITLEMENTS):
        raise backend._unsupported("entitlement features (Capability.ENTITLEMENTS)")
    links = ExternalProduct.objects.filter(provider=backend.provider_name).select_related("product")
    if product_id is not None:
        links = links.filter(product_id=product_id)
    catalog: dict[str, ProviderFeature] | None = None
    results = []
    for ext in links.order_by("product_id"):
        wanted = wanted_features(ext.product)
        if ext.features_hash == features_hash(wanted):
            continue
        try:
            if catalog is None:
                catalog = {f.lookup_key: f for f in backend.list_entitlement_features()}
            results.append(_sync_product_features(backend, ext, wanted, catalog, dry_run))
        except ProviderError as exc:
            results.append(
                SyncResult(OBJECT_TYPE, str(ext.product_id), SyncAction.FAILED, error=exc)
            )
    return results


def _sync_product_features(
    backend: BaseBackend,
    ext: ExternalProduct,
    wanted: list[str],
    catalog: dict[str, ProviderFeature],
    dry_run: bool,
) -> SyncResult:
    attached = {pf.lookup_key: pf for pf in backend.list_product_features(ext.external_id)}
    missing = [name for name in wanted if name not in attached]
    extra = sorted(name for name in attached if name not in wanted)
    detail = " ".join([f"+{name}" for name in missing] + [f"-{name}" for name in extra])
    action = SyncAction.UPDATED if missing or extra else SyncAction.UNCHANGED
    if not dry_run:
        # Attached only after listing what is attached: a key of its own for each push
        # (the SDK's retries reuse it), so a feature detached at the provider can come back.
        attempt = uuid.uuid4().hex
        for name in missing:
            feature = catalog.get(name)
            if feature is None:
                feature = backend.create_entitlement_feature(
                    name, name, idempotency_key=idempotency_key(ext, f"feature-{name}", "")
                )
                catalog[name] = feature
            backend.attach_product_feature(
                ext.external_id,
                feature.id,
                idempotency_key=idempotency_key(ext, f"attach-{feature.id}", attempt),
            )
        for name in extra:
            backend.detach_product_feature(ext.external_id, attached[name].id)
        ext.features_hash = features_hash(wanted)
        ext.save(update_fields=["features_hash"])
    return SyncResult(
        OBJECT_TYPE, str(ext.product_id), action, ext.external_id, dry_run=dry_run, detail=detail
    )
