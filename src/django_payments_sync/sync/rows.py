"""Pushing local customers, products, prices and subscriptions to the provider, row by row."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import METADATA_ID_KEY, METADATA_MODEL_KEY
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
    ProviderError,
)
from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    ProviderDeletion,
    SyncStatus,
)
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    PriceSnapshot,
    ProductToSynchronizePayments,
    digest,
    idempotency_key,
    model_label,
)

if TYPE_CHECKING:
    from django.db.models import Model

    from django_payments_sync.models import AbstractPricing, AbstractProduct, Customer, Subscription

logger = logging.getLogger("django_payments_sync.sync")

#: "Not looked up yet" for the optional preloaded External rows (None means "there is none").
_UNKNOWN: Any = object()


class SyncAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    ARCHIVED = "archived"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    #: Left alone on purpose: the provider object was deleted at the provider (deletions stick).
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class SyncResult:
    """What a push did to one local row at the provider (or would do, with ``dry_run``)."""

    object_type: str  # "customer" | "product" | "price" | "subscription"
    local_id: str
    action: SyncAction
    external_id: str | None = None
    error: ProviderError | None = None
    dry_run: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.action is not SyncAction.FAILED


def mark_synced(instance: Model) -> None:
    """Record on ``instance`` (without a save signal) that its latest state reached the provider."""
    _set_status(instance, SyncStatus.SYNCED, "", timezone.now())


def mark_sync_error(instance: Model, error: ProviderError) -> None:
    """Pending for a transient error (retry later), failed for a permanent one (fix the data)."""
    status = SyncStatus.PENDING if error.retryable else SyncStatus.FAILED
    _set_status(instance, status, f"{type(error).__name__}: {error}"[:2000], None)


def _set_status(instance: Model, status: str, error: str, when: Any) -> None:
    changes: dict[str, Any] = {"sync_status": status, "sync_error": error}
    if when is not None:
        changes["synced_at"] = when
    # A queryset update: no post_save, so the autosync receivers do not fire again.
    type(instance)._default_manager.filter(pk=instance.pk).update(**changes)
    for name, value in changes.items():
        setattr(instance, name, value)


def _external(model: type[Any], provider: str, **lookup: Any) -> Any | None:
    return model.objects.filter(provider=provider, **lookup).first()


def _link(
    model: type[Any], provider: str, external_id: str, content_hash: str, **local: Any
) -> Any:
    """Create the External row of a local row (concurrent pushes converge on one row)."""
    try:
        # A savepoint, so that losing the race does not break a caller's transaction.
        with transaction.atomic():
            return model.objects.create(
                provider=provider, external_id=external_id, content_hash=content_hash, **local
            )
    except IntegrityError:
        # Another process linked the row first: theirs wins (the same object, by idempotency).
        row = model.objects.filter(provider=provider, **local).first()
        if row is None:
            raise PermanentProviderError(
                f"{provider} object {external_id} is already linked to another local row."
            ) from None
        return row


def _relink(ext: Any, external_id: str, content_hash: str) -> None:
    ext.external_id = external_id
    ext.content_hash = content_hash
    ext.save(update_fields=["external_id", "content_hash", "updated_at"])


# --- customers ----------------------------------------------------------------------------


def sync_customer(
    customer: Customer,
    *,
    backend: BaseBackend | None = None,
    dry_run: bool = False,
    link: Any = _UNKNOWN,
    recreate_deleted: bool | None = None,
) -> SyncResult:
    """Push a customer with its billing information; never raises a provider error.

    A failure marks the customer ``pending`` (transient) or ``failed`` (permanent) and is
    returned in ``SyncResult.error``; ``payments_sync push`` retries it.
    """
    try:
        return sync_customer_or_raise(
            customer, backend=backend, dry_run=dry_run, link=link, recreate_deleted=recreate_deleted
        )
    except ProviderError as exc:
        logger.warning("Could not push customer %s: %s", customer.pk, exc)
        return SyncResult("customer", str(customer.pk), SyncAction.FAILED, error=exc)


def sync_customer_or_raise(
    customer: Customer,
    *,
    backend: BaseBackend | None = None,
    dry_run: bool = False,
    link: Any = _UNKNOWN,
    recreate_deleted: bool | None = None,
) -> SyncResult:
    """Like :func:`sync_customer`, but raises the :class:`ProviderError` (after marking the row).

    A customer whose provider customer was deleted at the provider is not created again
    (``SKIPPED``, the row marked ``failed`` with the reason) unless ``recreate_deleted`` (or
    the ``RECREATE_DELETED`` setting) says so.
    """
    backend = backend or get_backend()
    ext = link
    if ext is _UNKNOWN:
        ext = _external(ExternalCustomer, backend.provider_name, customer=customer)
    if recreate_deleted is None:
        recreate_deleted = bool(payments_settings.RECREATE_DELETED)
    if ext is not None and deletion_of(backend.provider_name, "customer", ext.external_id):
        if not recreate_deleted:
            return _deleted_at_provider(backend, customer, ext.external_id, dry_run)
        if dry_run:
            return SyncResult(
                "customer", str(customer.pk), SyncAction.CREATED, dry_run=True, detail="recreated"
            )
        replaced = ext.external_id
        ext.delete()
        ext = None
    else:
        replaced = ""
    snapshot = CustomerSnapshot.from_customer(customer)
    wanted = snapshot.content_hash()
    if ext is not None and ext.content_hash == wanted:
        if not dry_run and customer.sync_status != SyncStatus.SYNCED:
            mark_synced(customer)
        return SyncResult("customer", str(customer.pk), SyncAction.UNCHANGED, ext.external_id)
    action = SyncAction.CREATED if ext is None else SyncAction.UPDATED
    if dry_run:
        return SyncResult(
            "customer", str(customer.pk), action, ext and ext.external_id, dry_run=True
        )
    try:
        external_id = _push_customer(
            backend, customer, snapshot, ext, wanted, recreate_deleted, replaced
        )
    except ProviderError as exc:
        mark_sync_error(customer, exc)
        raise
    if external_id is None:
        gone = _external(ExternalCustomer, backend.provider_name, customer=customer)
        return _deleted_at_provider(backend, customer, gone.external_id if gone else "", dry_run)
    mark_synced(customer)
    return SyncResult("customer", str(customer.pk), action, external_id)


def deletion_of(provider: str, object_type: str, external_id: str) -> ProviderDeletion | None:
    """The recorded deletion of a provider object, if it was deleted at the provider."""
    if not external_id:
        return None
    return ProviderDeletion.objects.filter(
        provider=provider, object_type=object_type, external_id=external_id
    ).first()


def record_deletion(
    provider: str,
    object_type: str,
    external_id: str,
    *,
    deleted_at: dt.datetime | None = None,
    event_id: str = "",
) -> ProviderDeletion:
    """Remember that a provider object is deleted (idempotent; the first record is kept)."""
    try:
        with transaction.atomic():
            row, _ = ProviderDeletion.objects.get_or_create(
                provider=provider,
                object_type=object_type,
                external_id=external_id,
                defaults={"deleted_at": deleted_at or timezone.now(), "event_id": event_id},
            )
    except IntegrityError:
        row = ProviderDeletion.objects.get(
            provider=provider, object_type=object_type, external_id=external_id
        )
    return row


def deleted_message(object_type: str, external_id: str, row: ProviderDeletion | None) -> str:
    when = f" on {row.deleted_at:%Y-%m-%d %H:%M} UTC" if row is not None else ""
    told = f" (event {row.event_id})" if row is not None and row.event_id else ""
    return (
        f"The provider {object_type} {external_id} was deleted at the provider{when}{told}; "
        "it is not created again. Run `payments_sync push --recreate-deleted` (or set "
        "RECREATE_DELETED) to create a new one."
    )


def _deleted_at_provider(
    backend: BaseBackend, customer: Customer, external_id: str, dry_run: bool
) -> SyncResult:
    provider = backend.provider_name
    row = deletion_of(provider, "customer", external_id)
    message = deleted_message("customer", external_id, row)
    if not dry_run and (customer.sync_status, customer.sync_error) != (SyncStatus.FAILED, message):
        _set_status(customer, SyncStatus.FAILED, message, None)
    return SyncResult(
        "customer",
        str(customer.pk),
        SyncAction.SKIPPED,
        external_id,
        dry_run=dry_run,
        detail="deleted at the provider",
    )


def align_customer_copies(customer: Customer, snapshot: CustomerSnapshot) -> None:
    """Give both local copies of the email and name the value the provider holds (after a
    provider-side edit is applied).

    Queryset updates: no save signal, so nothing is pushed again.
    """
    values = {"email": snapshot.data.email, "name": snapshot.data.name}
    own = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if own:
        type(customer)._default_manager.filter(pk=customer.pk).update(**own)
        for k, v in own.items():
            setattr(customer, k, v)
    try:
        billing = customer.billing_information
    except ObjectDoesNotExist:
        return
    # An empty billing copy stays empty (the customer's copy is used then).
    billed = {k: v for k, v in values.items() if getattr(billing, k) and getattr(billing, k) != v}
    if billed:
        type(billing)._default_manager.filter(pk=billing.pk).update(**billed)
        for k, v in billed.items():
            setattr(billing, k, v)


def _push_customer(
    backend: BaseBackend,
    customer: Customer,
    snapshot: CustomerSnapshot,
    ext: ExternalCustomer | None,
    wanted: str,
    recreate_deleted: bool,
    replaced: str = "",
) -> str | None:
    """The provider id after the push; ``None`` when the provider customer was deleted there
    (recorded) and is not to be created again. ``replaced`` names a deleted provider customer
    this one replaces (so its create is a new request, not a replay)."""
    if ext is not None:
        changed = snapshot.changed_fields(ext.synced_state)
        fields = [f for f in changed if f != "tax_ids"]
        try:
            if fields or not ext.synced_state:
                backend.update_customer(
                    ext.external_id,
                    snapshot.data,
                    fields=None if not ext.synced_state else fields,
                )
        except ObjectNotFound:
            # Deleted at the provider (by hand, an account reset) and no event told us yet.
            logger.warning("Provider customer %s is gone.", ext.external_id)
            record_deletion(backend.provider_name, "customer", ext.external_id)
            if not recreate_deleted:
                return None
            replaced = ext.external_id
            ext.delete()
            ext = None
        else:
            refs: dict[str, str] = dict((ext.synced_state or {}).get(TAX_ID_REFS) or {})
            if "tax_ids" in changed or not ext.content_hash:
                refs = _reconcile_tax_ids(backend, customer, ext.external_id, snapshot, refs)
            ext.content_hash = wanted
            ext.synced_state = {**snapshot.state(), TAX_ID_REFS: refs}
            ext.save(update_fields=["content_hash", "synced_state", "updated_at"])
            return str(ext.external_id)
    # One key per row, whatever its data: a create whose answer was lost (a timeout) is
    # retried under the same key even when the data changed since, so it is never made twice.
    # The key names what a new customer replaces: the deleted customer must not come back
    # from the provider's idempotency cache.
    key = idempotency_key(customer, "create", digest(replaced) if replaced else "")
    try:
        created = backend.create_customer(snapshot.data, idempotency_key=key)
    except PermanentProviderError as exc:
        # The key was used with other data: that earlier create happened. Adopt its customer;
        # the update branch brings it up to date.
        earlier = _created_earlier(backend, customer) if exc.code == "idempotency_error" else None
        if earlier is None:
            raise
        ext = _link(ExternalCustomer, backend.provider_name, earlier, "", customer=customer)
        return _push_customer(backend, customer, snapshot, ext, wanted, recreate_deleted)
    # Linked before the tax ids: a failure there must not lose the provider customer. The empty
    # hash makes the next push update it and finish the tax ids.
    ext = _link(ExternalCustomer, backend.provider_name, created.id, "", customer=customer)
    if deletion_of(backend.provider_name, "customer", created.id):
        # The provider answered a create it had made before (the answer was lost, a timeout)
        # and that customer was deleted at the provider since: deletions stick.
        if not recreate_deleted:
            return None
        ext.delete()
        return _push_customer(
            backend, customer, snapshot, None, wanted, recreate_deleted, replaced=created.id
        )
    refs = {}
    for tax_id in snapshot.tax_ids:
        added = backend.add_tax_id(
            created.id,
            tax_id,
            idempotency_key=idempotency_key(customer, f"taxid-{created.id}", digest(tax_id.value)),
        )
        refs[tax_id.value] = added.id
    ext.content_hash = wanted
    ext.synced_state = {**snapshot.state(), TAX_ID_REFS: refs}
    ext.save(update_fields=["content_hash", "synced_state", "updated_at"])
    return created.id


def _created_earlier(backend: BaseBackend, customer: Customer) -> str | None:
    """The provider id of the newest provider customer made for ``customer`` by this library
    within the life of an idempotency key (a day): the one the conflicting key created."""
    label = model_label(customer)
    since = timezone.now() - dt.timedelta(hours=25)
    mine = [
        c
        for c in backend.list_customers()
        if c.metadata.get(METADATA_ID_KEY) == str(customer.pk)
        and c.metadata.get(METADATA_MODEL_KEY, label) == label
        and (c.created is None or c.created >= since)
    ]
    mine.sort(key=lambda c: (c.created is not None, c.created))
    return mine[-1].id if mine else None


#: ``synced_state`` key: value -> provider id of each tax id we added, so that adding a value
#: again after it was removed (here or at the provider) is a new request, not a replay.
TAX_ID_REFS = "tax_id_refs"


def _reconcile_tax_ids(
    backend: BaseBackend,
    customer: Customer,
    external_id: str,
    snapshot: CustomerSnapshot,
    refs: dict[str, str],
) -> dict[str, str]:
    """Add the tax ids the customer has and remove the ones it no longer has; the refs after.

    An add's key names the tax id of that value added last (``refs``): re-adding a value that
    was removed since (here, or in the dashboard) is a new request, while a retry of an add
    whose answer was lost (``refs`` not updated) reuses the key and gets the same tax id.
    """
    remote = list(backend.list_tax_ids(external_id))
    wanted = {(t.type, t.value) for t in snapshot.tax_ids}
    present = {(t.type, t.value): t.id for t in remote}
    # Kept for values removed too: the id of the last one added is what tells a later re-add
    # from a retry.
    refs = dict(refs)
    for tax_id in snapshot.tax_ids:
        found = present.get((tax_id.type, tax_id.value))
        if found is not None:
            refs[tax_id.value] = found
            continue
        added = backend.add_tax_id(
            external_id,
            tax_id,
            idempotency_key=idempotency_key(
                customer,
                f"taxid-{external_id}",
                digest([tax_id.value, refs.get(tax_id.value, "")]),
            ),
        )
        refs[tax_id.value] = added.id
    for old in remote:
        if (old.type, old.value) not in wanted:
            backend.delete_tax_id(external_id, old.id)
    return refs


def ensure_provider_customer(customer: Customer, *, backend: BaseBackend | None = None) -> str:
    """The provider id of ``customer``, creating the provider customer first if it has none.

    Raises :class:`ProviderError` when it cannot be created (checkout cannot go on without it);
    a customer created whose tax id was refused is returned (and stays marked ``failed``).
    """
    backend = backend or get_backend()
    ext = _external(ExternalCustomer, backend.provider_name, customer=customer)
    if ext is not None and not deletion_of(backend.provider_name, "customer", ext.external_id):
        return str(ext.external_id)
    try:
        # A customer deleted at the provider who pays again gets a new provider customer.
        sync_customer_or_raise(customer, backend=backend, link=ext, recreate_deleted=True)
    except ProviderError:
        # Created, but a later step failed (e.g. the provider refused the VAT number): the row
        # is marked, the next push finishes it, and a checkout can go on with the customer.
        ext = _external(ExternalCustomer, backend.provider_name, customer=customer)
        if ext is None:
            raise
    else:
        ext = ExternalCustomer.objects.get(provider=backend.provider_name, customer=customer)
    return str(ext.external_id)


def delete_provider_customer(external_id: str, *, backend: BaseBackend | None = None) -> SyncResult:
    """Delete a customer at the provider (its local row is already gone); missing is fine."""
    backend = backend or get_backend()
    with contextlib.suppress(ObjectNotFound):
        backend.delete_customer(external_id)
    return SyncResult("customer", "", SyncAction.DELETED, external_id)


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
    snapshot = ProductToSynchronizePayments.from_product(product, pricings)
    links = links or {}
    result = _sync_product_row(
        backend,
        product,
        snapshot,
        dry_run,
        adopt or {},
        links.get(f"product:{product.pk}", _UNKNOWN),
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
    pricings = pricings if pricings is not None else list(product.pricings.all())  # type: ignore[attr-defined]
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
                links.get(f"price:{price.local_id}", _UNKNOWN),
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
    if ext is _UNKNOWN:
        ext = _external(ExternalProduct, backend.provider_name, product=product)
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
            ext = _link(ExternalProduct, backend.provider_name, remote_id, wanted, product=product)
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
    row = deletion_of(backend.provider_name, "product", external_id)
    message = deleted_message("product", external_id, row)
    if not dry_run and (product.sync_status, product.sync_error) != (SyncStatus.FAILED, message):
        _set_status(product, SyncStatus.FAILED, message, None)
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
    wanted = snapshot.content_hash(product_external_id)
    if ext is _UNKNOWN:
        ext = _external(ExternalPricing, backend.provider_name, pricing=pricing)
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
                ext = _link(ExternalPricing, backend.provider_name, new_id, wanted, pricing=pricing)
            else:
                if ext.external_id != new_id:
                    # Archived before the row moves on: if this fails, the next push creates the
                    # same new price again (same key, same answer) and retries the archive. A
                    # price that is gone (its product was deleted) needs no archiving.
                    with contextlib.suppress(ObjectNotFound):
                        backend.archive_price(ext.external_id)
                _relink(ext, new_id, wanted)
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


# --- subscriptions ------------------------------------------------------------------------


def provider_subscription_hash(state: Any) -> str:
    """The hash ``sync_subscription`` keeps, of a provider subscription (``ProviderSubscription``):
    handlers record it with the state they apply, so a later save pushes only real changes."""
    return digest(
        {
            "price": state.price_id,
            "quantity": state.quantity,
            "cancel_at_period_end": state.cancel_at_period_end,
            "canceled": state.status == "canceled",
        }
    )


def _subscription_state(subscription: Subscription, provider: str) -> dict[str, Any] | None:
    price = _external(ExternalPricing, provider, pricing_id=subscription.pricing_id)
    if price is None:
        return None
    return {
        "price": price.external_id,
        "quantity": subscription.quantity,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "canceled": subscription.status == "canceled",
    }


def _provider_subscription_state(
    backend: BaseBackend, subscription: Subscription, external_id: str
) -> dict[str, Any] | None:
    customer = _external(
        ExternalCustomer, backend.provider_name, customer_id=subscription.customer_id
    )
    if customer is None:
        return None
    for remote in backend.list_subscriptions(customer.external_id):
        if remote.id == external_id:
            return {
                "price": remote.price_id,
                "quantity": remote.quantity,
                "cancel_at_period_end": remote.cancel_at_period_end,
                "canceled": remote.status == "canceled",
            }
    return None


def sync_subscription(
    subscription: Subscription, *, backend: BaseBackend | None = None, dry_run: bool = False
) -> SyncResult:
    """Push a local change of price, quantity or cancellation of a subscription at the provider.

    Subscriptions are created at the provider by checkout (or the interactor), never here: a
    subscription without a provider link is left alone.
    """
    backend = backend or get_backend()
    local_id = str(subscription.pk)
    ext = _external(ExternalSubscription, backend.provider_name, subscription=subscription)
    state = _subscription_state(subscription, backend.provider_name)
    if ext is None or state is None:
        return SyncResult(
            "subscription", local_id, SyncAction.UNCHANGED, detail="not at the provider"
        )
    wanted = digest(state)
    if not ext.content_hash and not dry_run:
        # Linked by the webhook side, which records no hash: learn what the provider holds
        # (one listing of the customer's subscriptions, once), so that only a real difference
        # is pushed, never an echo of the provider's own state.
        try:
            baseline = _provider_subscription_state(backend, subscription, ext.external_id)
        except ProviderError as exc:
            mark_sync_error(subscription, exc)
            return SyncResult("subscription", local_id, SyncAction.FAILED, ext.external_id, exc)
        if baseline is not None:
            ext.content_hash = digest(baseline)
            ext.save(update_fields=["content_hash", "updated_at"])
    if ext.content_hash == wanted:
        if not dry_run and subscription.sync_status != SyncStatus.SYNCED:
            mark_synced(subscription)
        return SyncResult("subscription", local_id, SyncAction.UNCHANGED, ext.external_id)
    if dry_run:
        return SyncResult(
            "subscription", local_id, SyncAction.UPDATED, ext.external_id, dry_run=True
        )
    try:
        if state["canceled"]:
            backend.cancel_subscription(ext.external_id, at_period_end=False)
            action = SyncAction.ARCHIVED
        else:
            backend.update_subscription(
                ext.external_id,
                price_id=state["price"],
                quantity=state["quantity"],
                cancel_at_period_end=state["cancel_at_period_end"],
                proration_behavior=payments_settings.PRORATION_BEHAVIOR,
                # From which state to which: going back to an earlier state is a new request.
                idempotency_key=idempotency_key(
                    subscription, "update", digest([ext.content_hash, wanted])
                ),
            )
            action = SyncAction.UPDATED
    except ProviderError as exc:
        mark_sync_error(subscription, exc)
        return SyncResult("subscription", local_id, SyncAction.FAILED, ext.external_id, exc)
    ext.content_hash = wanted
    ext.save(update_fields=["content_hash", "updated_at"])
    mark_synced(subscription)
    return SyncResult("subscription", local_id, action, ext.external_id)


def cancel_provider_subscription(
    external_id: str, *, backend: BaseBackend | None = None
) -> SyncResult:
    """Cancel now a subscription whose local row was deleted; an unknown one is fine."""
    backend = backend or get_backend()
    with contextlib.suppress(ObjectNotFound):
        backend.cancel_subscription(external_id, at_period_end=False)
    return SyncResult("subscription", "", SyncAction.ARCHIVED, external_id)
