"""Pushing a local change of a subscription (price, quantity, cancellation)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import (
    ObjectNotFound,
    ProviderError,
)
from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    SyncStatus,
)
from django_payments_sync.sync.snapshots import (
    digest,
    idempotency_key,
)

if TYPE_CHECKING:
    from django_payments_sync.models import Subscription
from django_payments_sync.sync.rows import (
    SyncAction,
    SyncResult,
    link_of,
    mark_sync_error,
    mark_synced,
)

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
    price = link_of(ExternalPricing, provider, pricing_id=subscription.pricing_id)
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
    customer = link_of(
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
    ext = link_of(ExternalSubscription, backend.provider_name, subscription=subscription)
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
