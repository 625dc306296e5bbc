"""Pushing products and their prices: created, updated, archived or replaced as needed."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import Capability
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
    ProviderError,
    UnsupportedOperation,
)
from django_payments_sync.models import (
    ExternalPricing,
    ExternalProduct,
    SyncStatus,
)
from django_payments_sync.sync.snapshots import (
    PriceSnapshot,
    ProductToSynchronizePayments,
    digest,
    idempotency_key,
)

if TYPE_CHECKING:
    from django_payments_sync.models import AbstractPricing, AbstractProduct
from django_payments_sync.sync.meters import meter_external_ids
from django_payments_sync.sync.rows import (
    UNKNOWN_LINK,
    SyncAction,
    SyncResult,
    create_link,
    deletion_of,
    link_of,
    logger,
    mark_deleted_at_provider,
    mark_sync_error,
    mark_synced,
    move_link,
    record_deletion,
    set_sync_status,
)

# --- products and prices ------------------------------------------------------------------


def sync_product(
    product: AbstractProduct,
    *,
    backend: BaseBackend | None = None,
    dry_run: bool = False,
    pricings: list[AbstractPricing] | None = None,
    adopt: dict[str, list[Any]] | None = None,
    links: dict[str, Any] | None = None,
    recreate_deleted: bool | None = None,
) -> list[SyncResult]:
    """Push a product and its prices; never raises a provider error (see :class:`SyncResult`).

    A product deleted at the provider is not created again (``SKIPPED``, the row marked
    ``failed`` with the reason) unless ``recreate_deleted`` or ``RECREATE_DELETED``.

    ``adopt`` maps ``"product:<pk>"``/``"price:<pk>"`` to the provider objects a listing found
    carrying those rows' identity; one with exactly the row's content (a create whose answer
    was lost) is linked instead of created again. ``links`` maps the same keys to the External
    rows already loaded (or None), so a push over the whole catalog does not query them one by
    one.
    """
    backend = backend or get_backend()
    if pricings is None:
        pricings = list(product.pricings.all())  # type: ignore[attr-defined]
    # Metered prices name their meters: those are pushed first (none, for a licensed catalog).
    meter_ids = meter_external_ids(pricings, backend=backend, push=not dry_run)
    snapshot = ProductToSynchronizePayments.from_product(product, pricings, meter_ids)
    links = links or {}
    result = _sync_product_row(
        backend,
        product,
        snapshot,
        dry_run,
        adopt or {},
        links.get(f"product:{product.pk}", UNKNOWN_LINK),
        recreate_deleted,
    )
    results = [result]
    if result.external_id is None:
        if result.dry_run:
            results += [
                SyncResult("price", p.local_id, SyncAction.CREATED, dry_run=True)
                for p in snapshot.prices
            ]
        # Otherwise the product failed: its prices cannot be pushed and stay pending.
        return results
    by_id = {str(p.pk): p for p in pricings}
    for price in snapshot.prices:
        results.append(
            _sync_price_row(
                backend,
                by_id[price.local_id],
                price,
                result.external_id,
                dry_run,
                adopt or {},
                links.get(f"price:{price.local_id}", UNKNOWN_LINK),
            )
        )
    return results


def _sync_product_row(
    backend: BaseBackend,
    product: AbstractProduct,
    snapshot: ProductToSynchronizePayments,
    dry_run: bool,
    adopt: dict[str, list[Any]],
    ext: Any,
    recreate_deleted: bool | None = None,
) -> SyncResult:
    local_id = str(product.pk)
    wanted = snapshot.content_hash()
    if ext is UNKNOWN_LINK:
        ext = link_of(ExternalProduct, backend.provider_name, product=product)
    if ext is not None and ext.content_hash == wanted:
        if not dry_run and product.sync_status != SyncStatus.SYNCED:
            mark_synced(product)
        return SyncResult("product", local_id, SyncAction.UNCHANGED, ext.external_id)
    if recreate_deleted is None:
        recreate_deleted = bool(payments_settings.RECREATE_DELETED)
    replaced = ""
    if ext is not None and deletion_of(backend.provider_name, "product", ext.external_id):
        if not recreate_deleted:
            return _product_deleted_at_provider(backend, product, ext.external_id, dry_run)
        if dry_run:
            return SyncResult(
                "product", local_id, SyncAction.CREATED, dry_run=True, detail="recreated"
            )
        replaced = ext.external_id
        ext.delete()
        ext = None
    if ext is None:
        action = SyncAction.CREATED
    else:
        action = SyncAction.UPDATED if snapshot.active else SyncAction.ARCHIVED
    if dry_run:
        return SyncResult("product", local_id, action, ext and ext.external_id, dry_run=True)
    try:
        data = snapshot.product_data()
        if ext is None:
            found = next(
                (r for r in adopt.get(f"product:{local_id}", ()) if not snapshot.differences(r)),
                None,
            )
            if found is not None and not replaced:
                remote_id = found.id
            else:
                content = digest([wanted, replaced]) if replaced else wanted
                remote_id = backend.create_product(
                    data, idempotency_key=idempotency_key(product, "create", content)
                ).id
            ext = create_link(
                ExternalProduct, backend.provider_name, remote_id, wanted, product=product
            )
        else:
            try:
                backend.update_product(ext.external_id, data)
            except ObjectNotFound:
                # Deleted at the provider and no event told us yet: remembered, and created
                # again only when asked.
                record_deletion(backend.provider_name, "product", ext.external_id)
                if not recreate_deleted:
                    return _product_deleted_at_provider(backend, product, ext.external_id, False)
                return _sync_product_row(
                    backend, product, snapshot, dry_run, adopt, ext, recreate_deleted
                )
            ext.content_hash = wanted
            ext.save(update_fields=["content_hash", "updated_at"])
    except ProviderError as exc:
        mark_sync_error(product, exc)
        logger.warning("Could not push product %s: %s", local_id, exc)
        return SyncResult("product", local_id, SyncAction.FAILED, ext and ext.external_id, exc)
    mark_synced(product)
    return SyncResult("product", local_id, action, ext.external_id)


def _product_deleted_at_provider(
    backend: BaseBackend, product: AbstractProduct, external_id: str, dry_run: bool
) -> SyncResult:
    mark_deleted_at_provider(backend.provider_name, product, "product", external_id, dry_run)
    # No provider id: its prices are not pushed onto a deleted product.
    return SyncResult(
        "product",
        str(product.pk),
        SyncAction.SKIPPED,
        None,
        dry_run=dry_run,
        detail=f"{external_id} deleted at the provider",
    )


def _sync_price_row(
    backend: BaseBackend,
    pricing: AbstractPricing,
    snapshot: PriceSnapshot,
    product_external_id: str,
    dry_run: bool,
    adopt: dict[str, list[Any]],
    ext: Any,
) -> SyncResult:
    local_id = str(pricing.pk)
    if snapshot.meter_missing:
        return _meter_missing(backend, pricing, dry_run)
    wanted = snapshot.content_hash(product_external_id)
    if ext is UNKNOWN_LINK:
        ext = link_of(ExternalPricing, backend.provider_name, pricing=pricing)
    if ext is not None and ext.content_hash == wanted:
        if not dry_run and pricing.sync_status != SyncStatus.SYNCED:
            mark_synced(pricing)
        return SyncResult("price", local_id, SyncAction.UNCHANGED, ext.external_id)
    replace = ext is not None and ext.content_hash[:32] != wanted[:32]
    if ext is None:
        action = SyncAction.CREATED
    elif not snapshot.active:
        action = SyncAction.ARCHIVED
    else:
        action = SyncAction.UPDATED
    detail = "replaced" if replace else ""
    if dry_run:
        return SyncResult(
            "price", local_id, action, ext and ext.external_id, dry_run=True, detail=detail
        )
    data = snapshot.price_data(product_external_id)
    try:
        if ext is None or replace:
            found = next(
                (
                    r
                    for r in adopt.get(f"price:{local_id}", ())
                    if snapshot.matches(r, product_external_id)
                ),
                None,
            )
            if ext is None and found is not None:
                new_id = found.id
            else:
                # The key names the price it replaces: terms that come back (A, B, A again)
                # must create a price, not get the archived first A from the idempotency cache.
                replacing = ext.external_id if ext is not None else ""
                new_id = backend.create_price(
                    data,
                    idempotency_key=idempotency_key(
                        pricing, "create", digest([wanted, replacing]) if replacing else wanted
                    ),
                ).id
            if ext is None:
                ext = create_link(
                    ExternalPricing, backend.provider_name, new_id, wanted, pricing=pricing
                )
            else:
                if ext.external_id != new_id:
                    # Archived before the row moves on: if this fails, the next push creates the
                    # same new price again (same key, same answer) and retries the archive. A
                    # price that is gone (its product was deleted) needs no archiving.
                    with contextlib.suppress(ObjectNotFound):
                        backend.archive_price(ext.external_id)
                move_link(ext, new_id, wanted)
        else:
            backend.update_price_metadata(ext.external_id, data)
            ext.content_hash = wanted
            ext.save(update_fields=["content_hash", "updated_at"])
    except ProviderError as exc:
        mark_sync_error(pricing, exc)
        logger.warning("Could not push price %s: %s", local_id, exc)
        return SyncResult("price", local_id, SyncAction.FAILED, ext and ext.external_id, exc)
    mark_synced(pricing)
    return SyncResult("price", local_id, action, ext.external_id, detail=detail)


def _meter_missing(backend: BaseBackend, pricing: AbstractPricing, dry_run: bool) -> SyncResult:
    """A metered price whose meter has no provider id: refused (nothing is pushed), clearly."""
    error: ProviderError | UnsupportedOperation
    name = pricing.meter.event_name if pricing.meter is not None else ""
    if not backend.supports(Capability.METERS):
        error = backend._unsupported(
            f"metered prices (usage meters): price {pricing.pk} is metered by {name!r}"
        )
    else:
        error = PermanentProviderError(
            f"The meter {name!r} of price {pricing.pk} is inactive or could not be "
            "pushed: a metered price needs its meter at the provider.",
            code="meter_unavailable",
        )
    if not dry_run:
        set_sync_status(pricing, SyncStatus.FAILED, f"{type(error).__name__}: {error}"[:2000], None)
    return SyncResult("price", str(pricing.pk), SyncAction.FAILED, error=error, dry_run=dry_run)


def sync_pricing(
    pricing: AbstractPricing, *, backend: BaseBackend | None = None
) -> list[SyncResult]:
    """Push one price (and its product first, when that is not at the provider or changed)."""
    product = pricing.product
    return sync_product(product, backend=backend)


def archive_provider_product(external_id: str, *, backend: BaseBackend | None = None) -> SyncResult:
    """Archive a product (and its active prices) whose local row was deleted."""
    backend = backend or get_backend()
    try:
        for price in backend.list_prices(product_id=external_id, active=True):
            backend.archive_price(price.id)
        backend.archive_product(external_id)
    except ObjectNotFound:
        pass
    return SyncResult("product", "", SyncAction.ARCHIVED, external_id)


def archive_provider_price(external_id: str, *, backend: BaseBackend | None = None) -> SyncResult:
    backend = backend or get_backend()
    with contextlib.suppress(ObjectNotFound):
        backend.archive_price(external_id)
    return SyncResult("price", "", SyncAction.ARCHIVED, external_id)
