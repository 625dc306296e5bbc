"""Payment events of one-off charges: the off-session charge's attempt and order settle."""

from __future__ import annotations

from django_payments_sync.backends.types import EventKind, ProviderEvent, ProviderPayment
from django_payments_sync.webhooks.handlers.registry import EventResult, handles, read_object


@handles(EventKind.PAYMENT_SUCCEEDED, EventKind.PAYMENT_FAILED)
def apply_payment(event: ProviderEvent) -> EventResult:
    """Settle the off-session charge the payment belongs to (once, whatever the order)."""
    from django_payments_sync.sync.payments import apply_payment_event

    payment = read_object(event, ProviderPayment)
    order = apply_payment_event(event.provider, payment, event.created)
    if order is None:
        return EventResult(ignored=True, note="Not an off-session charge of ours.")
    return EventResult(note=f"Order {order.pk}: {order.status}.")
