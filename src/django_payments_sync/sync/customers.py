"""Pushing a customer with its billing information and tax ids: only what changed."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Now
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
    Customer,
    ExternalCustomer,
    ProviderDeletion,
    SyncStatus,
)
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
    record_deletion,
)
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    digest,
    idempotency_key,
    model_label,
)

# --- customers ----------------------------------------------------------------------------


def sync_customer(
    customer: Customer,
    *,
    backend: BaseBackend | None = None,
    dry_run: bool = False,
    link: Any = UNKNOWN_LINK,
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
    link: Any = UNKNOWN_LINK,
    recreate_deleted: bool | None = None,
) -> SyncResult:
    """Like :func:`sync_customer`, but raises the :class:`ProviderError` (after marking the row).

    A customer whose provider customer was deleted at the provider is not created again
    (``SKIPPED``, the row marked ``failed`` with the reason) unless ``recreate_deleted`` (or
    the ``RECREATE_DELETED`` setting) says so.
    """
    backend = backend or get_backend()
    ext = link
    if ext is UNKNOWN_LINK:
        ext = link_of(ExternalCustomer, backend.provider_name, customer=customer)
    if recreate_deleted is None:
        recreate_deleted = bool(payments_settings.RECREATE_DELETED)
    if ext is not None and _deleted_at(backend, ext):
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
        gone = link_of(ExternalCustomer, backend.provider_name, customer=customer)
        return _deleted_at_provider(backend, customer, gone.external_id if gone else "", dry_run)
    mark_synced(customer)
    return SyncResult("customer", str(customer.pk), action, external_id)


def _deleted_at_provider(
    backend: BaseBackend, customer: Customer, external_id: str, dry_run: bool
) -> SyncResult:
    mark_deleted_at_provider(backend.provider_name, customer, "customer", external_id, dry_run)
    return SyncResult(
        "customer",
        str(customer.pk),
        SyncAction.SKIPPED,
        external_id,
        dry_run=dry_run,
        detail="deleted at the provider",
    )


def write_customer_identity(customer: Customer, billing: Any, values: Mapping[str, str]) -> None:
    """Write email/name values the provider holds to both local copies, ``Customer`` and
    ``BillingInformation`` (``billing``, or ``None``); an empty billing copy stays empty (the
    customer's copy is sent then).

    Queryset updates: no save signal, so nothing is pushed back.
    """
    own = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if own:
        type(customer)._default_manager.filter(pk=customer.pk).update(**own, updated_at=Now())
        for k, v in own.items():
            setattr(customer, k, v)
    if billing is None:
        return
    billed = {k: v for k, v in values.items() if getattr(billing, k) and getattr(billing, k) != v}
    if billed:
        type(billing)._default_manager.filter(pk=billing.pk).update(**billed, updated_at=Now())
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
        ext = create_link(ExternalCustomer, backend.provider_name, earlier, "", customer=customer)
        return _push_customer(backend, customer, snapshot, ext, wanted, recreate_deleted)
    # Linked before the tax ids: a failure there must not lose the provider customer. The empty
    # hash makes the next push update it and finish the tax ids.
    ext = create_link(ExternalCustomer, backend.provider_name, created.id, "", customer=customer)
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
    ext = link_of(ExternalCustomer, backend.provider_name, customer=customer)
    if ext is not None and not deletion_of(backend.provider_name, "customer", ext.external_id):
        return str(ext.external_id)
    try:
        # A customer deleted at the provider who pays again gets a new provider customer.
        sync_customer_or_raise(customer, backend=backend, link=ext, recreate_deleted=True)
    except ProviderError:
        # Created, but a later step failed (e.g. the provider refused the VAT number): the row
        # is marked, the next push finishes it, and a checkout can go on with the customer.
        ext = link_of(ExternalCustomer, backend.provider_name, customer=customer)
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


def _deleted_at(backend: BaseBackend, ext: Any) -> bool:
    """Whether ``ext``'s provider customer was deleted there (read with the link if it was)."""
    known = getattr(ext, "deleted_at_provider", None)
    if known is not None:
        return bool(known)
    return deletion_of(backend.provider_name, "customer", ext.external_id) is not None


def _customer_to_push(backend: BaseBackend, customer_pk: int) -> tuple[Customer | None, Any]:
    """The customer as stored now, with its billing information, its link and whether its
    provider customer was deleted there, in one query."""
    deleted = ProviderDeletion.objects.filter(
        provider=backend.provider_name, object_type="customer", external_id=OuterRef("external_id")
    )
    link = (
        ExternalCustomer.objects.select_related("customer__billing_information")
        .filter(provider=backend.provider_name, customer_id=customer_pk)
        .annotate(deleted_at_provider=Exists(deleted))
        .first()
    )
    if link is not None:
        return link.customer, link
    rows = Customer.objects.select_related("billing_information").filter(pk=customer_pk)
    return rows.first(), None


def push_customer(customer_pk: int, *, into: Customer | None = None) -> bool:
    """Push a customer's data and tax status to the provider now; ``False`` if it failed.

    On failure the customer stays ``pending`` (``failed`` for an error retrying cannot fix),
    with the error recorded, for ``payments_sync push`` or the next save to retry. ``into``:
    an instance of the customer that gets its sync state afterwards (the caller's copy).
    """
    backend = get_backend()
    customer, link = _customer_to_push(backend, customer_pk)
    if customer is None:
        return False
    try:
        # sync_customer never raises a provider error: it marks the row and reports it.
        result = sync_customer(customer, backend=backend, link=link)
        if into is not None:
            for name in ("sync_status", "sync_error", "synced_at"):
                setattr(into, name, getattr(customer, name))
    except Exception as exc:
        # Whatever else broke, the data is committed: keep the customer pending for a retry.
        logger.exception("Pushing customer %s to the provider failed", customer_pk)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        Customer.objects.filter(pk=customer_pk).update(
            sync_status=SyncStatus.PENDING, sync_error=error
        )
        if into is not None:
            into.sync_status, into.sync_error = SyncStatus.PENDING, error
        return False
    return result.ok


def push_customer_after_commit(customer: Customer) -> None:
    """Mark ``customer`` pending now and push it once the transaction commits (if AUTO_SYNC).

    What the billing save, the VIES recheck and a tax id event do after they change what the
    provider must hold: the mark survives a failed push, for ``payments_sync push`` to retry.
    """
    Customer.objects.filter(pk=customer.pk).update(
        sync_status=SyncStatus.PENDING, updated_at=timezone.now()
    )
    customer.sync_status = SyncStatus.PENDING
    if not payments_settings.AUTO_SYNC:
        return
    customer_pk = customer.pk
    transaction.on_commit(lambda: push_customer(customer_pk, into=customer), robust=True)
