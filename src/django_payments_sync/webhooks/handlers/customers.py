"""Customer and tax id events: linking provider customers, shared fields, deletions that stick."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    METADATA_MODEL_KEY,
    EventKind,
    ProviderCustomer,
    ProviderEvent,
    ProviderTaxId,
)
from django_payments_sync.choices import VatStatus
from django_payments_sync.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    Customer,
    ExternalCustomer,
    Subscription,
    SyncStatus,
)
from django_payments_sync.models.prepared import PreparedLookup
from django_payments_sync.sync import ownership
from django_payments_sync.sync.customers import push_customer_after_commit, write_customer_identity
from django_payments_sync.sync.rows import deleted_message, deletion_of, record_deletion
from django_payments_sync.sync.snapshots import billing_of
from django_payments_sync.tax.policy import process_tax
from django_payments_sync.webhooks.handlers.registry import (
    Deferred,
    EventResult,
    handles,
    is_newer,
    read_object,
    stamp,
)


def waiting_for_customer(provider_customer_id: str) -> str:
    return f"customer:{provider_customer_id}"


# --- customers ----------------------------------------------------------------------------
def _customer_links(provider: str, external_id: str) -> QuerySet[ExternalCustomer]:
    return ExternalCustomer.objects.select_related("customer__billing_information").filter(
        provider=provider, external_id=external_id
    )


def _customer_links_with_live_count(provider: str, external_id: str) -> QuerySet[ExternalCustomer]:
    live = (
        Subscription.objects.filter(
            customer_id=OuterRef("customer_id"), status__in=LIVE_SUBSCRIPTION_STATUSES
        )
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return _customer_links(provider, external_id).annotate(live_count=Coalesce(Subquery(live), 0))


#: The two shapes of :func:`customer_link`, compiled once per connection.
CUSTOMER_LINK = PreparedLookup(_customer_links)
CUSTOMER_LINK_WITH_LIVE_COUNT = PreparedLookup(_customer_links_with_live_count)


def customer_link(
    provider: str, provider_customer_id: str, *, with_live_count: bool = False
) -> ExternalCustomer | None:
    """The link of a provider customer, with its local customer and that customer's billing
    information (and, if asked, ``live_count``: how many live subscriptions it has), all read
    in one query."""
    lookup = CUSTOMER_LINK_WITH_LIVE_COUNT if with_live_count else CUSTOMER_LINK
    return lookup.first(provider=provider, external_id=provider_customer_id)


def link_customer(
    provider: str, customer: Customer, provider_customer_id: str
) -> tuple[ExternalCustomer | None, tuple[str, ...]]:
    """Link ``customer`` to the provider's customer; returns the link and what to release.

    ``None`` when that provider customer was deleted at the provider: nothing links to it.

    When the customer already has another provider id (a second customer made at checkout),
    the first link is kept and the new id is linked nowhere (it is reported by ``diff``).
    """
    if deletion_of(provider, "customer", provider_customer_id) is not None:
        # Deleted at the provider (perhaps in an event that arrived first): never linked.
        return None, ()
    try:
        with transaction.atomic():
            link, _ = ExternalCustomer.objects.get_or_create(
                provider=provider,
                customer=customer,
                defaults={"external_id": provider_customer_id, "content_hash": ""},
            )
    except IntegrityError:
        # Linked at the same moment by a push of the same customer.
        link = ExternalCustomer.objects.get(provider=provider, external_id=provider_customer_id)
    return link, (waiting_for_customer(provider_customer_id),)


def _local_customer_for(state: ProviderCustomer) -> Customer | None:
    """The local customer a provider customer mirrors: by our metadata, else by email."""
    local_id = state.metadata.get(METADATA_ID_KEY)
    model = state.metadata.get(METADATA_MODEL_KEY)
    if local_id and (model in (None, "", Customer._meta.label_lower)) and local_id.isdigit():
        found = Customer.objects.filter(pk=int(local_id)).first()
        if found is not None:
            return found
    if not state.email:
        return None
    provider = get_backend().provider_name
    unlinked = Customer.objects.filter(email__iexact=state.email).exclude(
        external_customers__provider=provider
    )
    candidates = list(unlinked[:2])
    if len(candidates) == 1:
        return candidates[0]
    owner = get_adapter_owner_for_email(state.email)
    if owner is not None:
        return Customer.objects.filter(owner=owner).first()
    return None


def get_adapter_owner_for_email(email: str) -> Any:
    """An existing owner for ``email``, through the adapter's ``get_owner_for_email``."""
    from django_payments_sync.conf import get_adapter

    return get_adapter().get_owner_for_email(email)


@handles(EventKind.CUSTOMER_CREATED, EventKind.CUSTOMER_UPDATED)
def apply_customer(event: ProviderEvent) -> EventResult:
    state = read_object(event, ProviderCustomer)
    provider = event.provider
    link = customer_link(provider, state.id)
    released: tuple[str, ...] = ()
    if link is None:
        if deletion_of(provider, "customer", state.id) is not None:
            # Deleted since (the deletion may even have arrived first): never linked again.
            return EventResult(ignored=True, note="The provider customer was deleted since.")
        customer = _local_customer_for(state)
        if customer is None:
            raise Deferred(
                waiting_for_customer(state.id),
                f"No local customer for {state.id} yet (no {METADATA_ID_KEY} metadata, no "
                "customer with its email); applied once a checkout or a push links it.",
            )
        link, released = link_customer(provider, customer, state.id)
        if link is None:
            return EventResult(ignored=True, note="The provider customer was deleted since.")
        if link.external_id != state.id:
            return EventResult(
                ignored=True,
                note=f"Local customer {customer.pk} is linked to {link.external_id} already.",
                release=released,
            )
    if not is_newer(event, link):
        return EventResult(note="Older than the state already applied.", release=released)
    notes = apply_customer_state(link, state, event.created, event.changed)
    link.save(update_fields=[*stamp(link, event), "synced_state"])
    return EventResult(note="; ".join(notes), release=released)


def apply_customer_state(
    link: ExternalCustomer,
    state: ProviderCustomer,
    at: dt.datetime,
    changed: frozenset[str] | None = None,
) -> list[str]:
    """Apply a provider customer's state to the local rows by the ownership rules.

    Shared fields (email, name) the provider changed are written to both local copies, unless
    the host changed them after ``at`` (its push follows); host-owned fields that differ are
    reported as drift, never applied. Updates ``link.synced_state`` (the caller saves it).

    ``changed`` names the fields the event changed. Once the provider's state is known
    (``synced_state``), only those count as the provider's edits: the other values of the
    snapshot may be older than our last push (a late ``customer.created``, an update of
    another field sent before our push), and applying them would revert it.
    """
    from django_payments_sync.sync.snapshots import (
        CustomerSnapshot,
        remote_customer_state,
    )

    customer = link.customer
    billing = billing_of(customer)  # read with the link (customer_link), else queried here
    synced = dict(link.synced_state or {})
    local = CustomerSnapshot.from_customer(customer).state()
    theirs = remote_customer_state(state)
    changed_at = max(
        (r.updated_at for r in (customer, billing) if r is not None and r.updated_at),
        default=None,
    )
    applied: dict[str, str] = {}
    notes: list[str] = []
    for name in ownership.fields_owned_by("customer", ownership.Owner.NEWEST):
        value = theirs[name]
        if name == "name" and not value:
            continue  # the provider has no name: nothing to learn from it
        if name in synced and (changed is None or name not in changed):
            # Not changed by this event: a snapshot, perhaps older than what we pushed since.
            if link.synced_state and value == local[name]:
                synced[name] = value
            continue
        if ownership.provider_edit_wins(
            theirs=value,
            local=local[name],
            synced=synced.get(name),
            event_time=at,
            local_changed_at=changed_at,
            pending=customer.sync_status == SyncStatus.PENDING,
        ):
            applied[name] = value
            synced[name] = value
        elif value == local[name]:
            synced[name] = value
    for name in ownership.fields_owned_by("customer", ownership.Owner.HOST):
        edited = changed is not None and name in changed
        if name in theirs and theirs[name] != local.get(name) and (edited or not synced):
            notes.append(f"drift: {name} {theirs[name]!r} != {local.get(name)!r}")
    if applied:
        write_customer_identity(customer, billing, applied)
    link.synced_state = synced
    return notes


@handles(EventKind.CUSTOMER_DELETED)
def apply_customer_deleted(event: ProviderEvent) -> EventResult:
    """The provider customer is gone, for good: remembered even before (or without) a link.

    A linked customer keeps its link and is marked ``failed`` with the reason; no older event
    links a row to the deleted customer again, and no push re-creates it unless asked
    (``RECREATE_DELETED``, ``push --recreate-deleted``) or the customer checks out again.
    """
    row = record_deletion(
        event.provider, "customer", event.object_id, deleted_at=event.created, event_id=event.id
    )
    link = customer_link(event.provider, event.object_id)
    if link is None:
        return EventResult(note="Recorded; no local customer was linked to it.")
    # A deletion is final at the provider: no later event of this customer can follow it.
    customer = link.customer
    link.save(update_fields=stamp(link, event))
    Customer.objects.filter(pk=customer.pk).update(
        sync_status=SyncStatus.FAILED,
        sync_error=deleted_message("customer", event.object_id, row),
        updated_at=Now(),
    )
    return EventResult(note=f"Local customer {customer.pk} kept, marked deleted at the provider.")


# --- tax ids ------------------------------------------------------------------------------
def _normal_vat(value: str) -> str:
    return "".join(value.split()).upper()


@handles(EventKind.TAX_ID_CREATED, EventKind.TAX_ID_UPDATED, EventKind.TAX_ID_DELETED)
def apply_tax_id(event: ProviderEvent) -> EventResult:
    """The provider's verification of the billing information's VAT number updates its tax status.

    A pending or unavailable verification never overrides a definite local answer (VIES).
    """
    state = read_object(event, ProviderTaxId)
    link = customer_link(event.provider, state.customer_id)
    if link is None:
        raise Deferred(waiting_for_customer(state.customer_id))
    billing = billing_of(link.customer)
    if billing is None or _normal_vat(billing.tax_id) != _normal_vat(state.value):
        return EventResult(ignored=True, note="Not the VAT number of the billing information.")
    previous_status = billing.vat_validation_status
    previous_exemption = billing.tax_exemption
    if event.kind is EventKind.TAX_ID_DELETED:
        status = previous_status
    else:
        # The backend answers the provider's verification in the library's VatStatus.
        known = state.verification_status in VatStatus.values
        status = VatStatus(state.verification_status) if known else previous_status
        definite = (VatStatus.VALID, VatStatus.INVALID)
        if status not in definite and previous_status in definite:
            status = previous_status
    if status == previous_status:
        return EventResult(note="Tax status unchanged.")
    # The one writer of the tax decision (and of tax_status_changed).
    billing.customer = link.customer
    process_tax(
        billing,
        status=status,
        previous=(previous_exemption, previous_status),
        only_tax_fields=True,
    )
    if billing.tax_exemption != previous_exemption:
        # The provider must tax the next invoice right: push after commit, never while applying.
        push_customer_after_commit(link.customer)
    return EventResult(note=f"VAT status {previous_status} -> {status}.")
