"""Refund events: a refund made, changed, or a payment refunded; the order and attempt follow."""

from __future__ import annotations

from django_payments_sync.backends.types import (
    EventKind,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
)
from django_payments_sync.webhooks.handlers.registry import EventResult, handles, read_object


@handles(EventKind.REFUND_CREATED, EventKind.REFUND_UPDATED)
def apply_refund(event: ProviderEvent) -> EventResult:
    """A refund as the provider holds it: its local row, then the order's and attempt's totals."""
    from django_payments_sync.sync.payments import record_provider_refund

    refund = read_object(event, ProviderRefund)
    row = record_provider_refund(event.provider, refund, at=event.created)
    if row is None:
        return EventResult(ignored=True, note="A refund of no local payment.")
    return EventResult(note=f"Refund {row.pk}: {row.status}.")


@handles(EventKind.PAYMENT_REFUNDED)
def apply_payment_refunded(event: ProviderEvent) -> EventResult:
    """A payment was refunded: each refund it lists is applied (those not seen yet included)."""
    from django_payments_sync.sync.payments import record_provider_refund

    payment = read_object(event, ProviderPayment)
    rows = [
        record_provider_refund(event.provider, refund, at=event.created)
        for refund in payment.refunds
    ]
    if not any(row is not None for row in rows):
        return EventResult(ignored=True, note="No refund of a local payment listed.")
    return EventResult(note=f"{payment.amount_refunded} of {payment.amount} refunded.")
