"""Entitlements events: the features the provider says a customer holds (Stripe Entitlements'
active entitlement summary), stored on the customer for ``ENTITLEMENTS_SOURCE = "provider"``."""

from __future__ import annotations

from django_payments_sync.backends.types import EventKind, ProviderEntitlements, ProviderEvent
from django_payments_sync.models import Customer, ExternalCustomer
from django_payments_sync.webhooks.handlers.customers import waiting_for_customer
from django_payments_sync.webhooks.handlers.registry import (
    Deferred,
    EventResult,
    handles,
    read_object,
)


@handles(EventKind.ENTITLEMENTS_UPDATED)
def store_entitlements(event: ProviderEvent) -> EventResult:
    """Replace the customer's provider entitlements with the event's (its whole set), unless
    a newer event already did; waits for a customer not linked yet."""
    state = read_object(event, ProviderEntitlements)
    customer_id = (
        ExternalCustomer.objects.filter(provider=event.provider, external_id=state.customer_id)
        .values_list("customer_id", flat=True)
        .first()
    )
    if customer_id is None:
        raise Deferred(waiting_for_customer(state.customer_id))
    keys = sorted(set(state.lookup_keys))
    updated = (
        Customer.objects.filter(pk=customer_id)
        .exclude(provider_entitlements_at__gt=event.created)
        .update(provider_entitlements=keys, provider_entitlements_at=event.created)
    )
    if not updated:
        return EventResult(ignored=True, note="A newer entitlements event was applied.")
    return EventResult(note=f"Provider entitlements: {', '.join(keys) or 'none'}.")
