"""Shared helpers of the services: the provider ids of local rows, made to exist on first need."""

from __future__ import annotations

from typing import Any

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.models import Customer, ExternalPricing, ExternalSubscription


def backend() -> BaseBackend:
    return get_backend()


def ensure_customer_id(customer: Customer) -> str:
    """The provider id of ``customer``, pushing it (with billing data and tax status) if needed.

    A payment must never precede its customer at the provider, so every checkout and direct
    subscription goes through here first; it stops with ``AccountMismatch`` when the
    credentials reach another account than the installation's links.
    """
    from django_payments_sync.sync.accounts import check_account
    from django_payments_sync.sync.customers import ensure_provider_customer

    check_account(backend())
    return ensure_provider_customer(customer)


def ensure_price_id(pricing: Any) -> str:
    """The provider id of ``pricing``'s current terms, pushing the product and price if needed."""
    provider = backend().provider_name
    link = ExternalPricing.objects.filter(provider=provider, pricing=pricing).first()
    if link is not None:
        return link.external_id
    from django_payments_sync.sync.catalog import sync_pricing

    for result in sync_pricing(pricing):
        if result.error is not None:
            raise result.error
    link = ExternalPricing.objects.filter(provider=provider, pricing=pricing).first()
    if link is None:
        raise PolicyViolation(
            "This price is not available at the payment provider yet.", code="price_not_synced"
        )
    return link.external_id


def pricing_for_price_id(price_id: str) -> Any:
    """The local pricing whose provider price is ``price_id`` (``None`` when unknown)."""
    link = (
        ExternalPricing.objects.filter(provider=backend().provider_name, external_id=price_id)
        .select_related("pricing")
        .first()
    )
    return link.pricing if link is not None else None


def subscription_external_id(subscription: Any) -> str | None:
    link = ExternalSubscription.objects.filter(
        provider=backend().provider_name, subscription=subscription
    ).first()
    return link.external_id if link is not None else None
