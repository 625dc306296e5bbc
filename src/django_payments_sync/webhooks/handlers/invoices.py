"""Invoice events: the local Invoice record, and the payment signals (paid, failed, needing the
customer, recovered) that the mails hang on."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from django_payments_sync import signals
from django_payments_sync.backends.types import EventKind, ProviderEvent, ProviderInvoice
from django_payments_sync.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Subscription,
)
from django_payments_sync.models.prepared import PreparedLookup
from django_payments_sync.webhooks.handlers.customers import customer_link, waiting_for_customer
from django_payments_sync.webhooks.handlers.registry import (
    Deferred,
    EventResult,
    handles,
    is_newer,
    read_object,
    stamp,
)
from django_payments_sync.webhooks.handlers.subscriptions import (
    SUBSCRIPTION_LINK,
    waiting_for_subscription,
)

#: The kinds that carry an invoice; each one writes the local record.
INVOICE_KINDS = (
    EventKind.INVOICE_CREATED,
    EventKind.INVOICE_FINALIZED,
    EventKind.INVOICE_UPDATED,
    EventKind.INVOICE_PAID,
    EventKind.INVOICE_PAYMENT_SUCCEEDED,
    EventKind.INVOICE_PAYMENT_FAILED,
    EventKind.INVOICE_PAYMENT_ACTION_REQUIRED,
    EventKind.INVOICE_VOIDED,
    EventKind.INVOICE_MARKED_UNCOLLECTIBLE,
)


def invoice_values(invoice: ProviderInvoice) -> dict[str, Any]:
    """The local record's fields as the provider's invoice says (an unknown status: draft).

    A provider that sends only what is due and paid (no totals) gets them from those: the
    total is what was due, what remains is what was not paid of it."""
    total = invoice.total or invoice.amount_due
    remaining = invoice.amount_remaining or (
        max(invoice.amount_due - invoice.amount_paid, 0) if invoice.status == "open" else 0
    )
    return {
        "number": invoice.number,
        "status": invoice.status if invoice.status in InvoiceStatus.values else "draft",
        "billing_reason": invoice.billing_reason,
        "currency": invoice.currency,
        "subtotal": invoice.subtotal or total - invoice.tax + invoice.amount_discount,
        "amount_discount": invoice.amount_discount,
        "tax": invoice.tax,
        "total": total,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": remaining,
        "hosted_invoice_url": invoice.hosted_invoice_url or "",
        "invoice_pdf": invoice.invoice_pdf or "",
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "issued_at": invoice.created,
        "paid_at": invoice.paid_at,
        "attempt_count": invoice.attempt_count,
        "next_payment_attempt": invoice.next_payment_attempt,
    }


def _invoices(provider: str, external_id: str) -> QuerySet[Invoice]:
    return Invoice.objects.filter(provider=provider, external_id=external_id)


#: The local record of a provider invoice, compiled once per connection.
INVOICE = PreparedLookup(_invoices)


def _record(
    event: ProviderEvent,
    invoice: ProviderInvoice,
    customer: Customer,
    subscription: Subscription | None,
) -> tuple[Invoice, bool]:
    """Create or update the local record unless ``event`` is older than what it holds;
    returns it and whether the event was applied (the handler runs under the customer's
    lock, so no other process writes this invoice meanwhile)."""
    row = INVOICE.first(provider=event.provider, external_id=invoice.id)
    if row is not None and not is_newer(event, row):
        return row, False
    if row is None:
        row = Invoice(provider=event.provider, external_id=invoice.id, customer=customer)
    for name, value in invoice_values(invoice).items():
        setattr(row, name, value)
    row.customer = customer
    row.subscription = subscription
    if event.kind is EventKind.INVOICE_PAYMENT_ACTION_REQUIRED:
        row.action_required = True
    elif row.status != InvoiceStatus.OPEN:
        row.action_required = False
    stamp(row, event)
    row.save()
    return row, True


def _owner_of(event: ProviderEvent, invoice: ProviderInvoice) -> tuple[Customer, Any] | None:
    """The local customer and subscription of an invoice; ``Deferred`` while they are not
    known yet, ``None`` for an invoice of no local customer."""
    if invoice.subscription_id:
        # With what the payment's mail shows (the billing email, the plan's name): the mail
        # after commit reads nothing more.
        link = SUBSCRIPTION_LINK.first(provider=event.provider, external_id=invoice.subscription_id)
        if link is None:
            if customer_link(event.provider, invoice.customer_id) is None:
                raise Deferred(waiting_for_customer(invoice.customer_id))
            raise Deferred(waiting_for_subscription(invoice.subscription_id))
        return link.subscription.customer, link.subscription
    customer_row = customer_link(event.provider, invoice.customer_id)
    if customer_row is None:
        return None
    return customer_row.customer, None


@handles(*INVOICE_KINDS)
def apply_invoice(event: ProviderEvent) -> EventResult:
    """Keep the local invoice, then tell the host what happened to its payment."""
    invoice = read_object(event, ProviderInvoice)
    owner = _owner_of(event, invoice)
    if owner is None:
        return EventResult(ignored=True, note="An invoice of no local customer.")
    customer, subscription = owner
    row, applied = _record(event, invoice, customer, subscription)
    kind = event.kind
    if kind is EventKind.INVOICE_PAID:
        _signal_paid(row, invoice, customer, subscription)
        return EventResult()
    if kind is EventKind.INVOICE_PAYMENT_SUCCEEDED:
        # The same payment as INVOICE_PAID's: one signal.
        return EventResult(note="Signalled on the invoice-paid event.")
    if kind not in (EventKind.INVOICE_PAYMENT_FAILED, EventKind.INVOICE_PAYMENT_ACTION_REQUIRED):
        return EventResult()
    # The subscription's state comes from its own snapshots only (an invoice never writes
    # it). A failure older than the invoice's state, or of an invoice paid or voided since,
    # is told to nobody.
    if not applied:
        return EventResult(note="An older failure; the payment moved on since.")
    if row.status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
        return EventResult(note=f"The invoice is {row.status} since.")
    if kind is EventKind.INVOICE_PAYMENT_FAILED and row.action_required:
        # The provider reports a payment waiting for authentication as failed too: the
        # action-required notice has told the customer already.
        return EventResult(note="Waiting for the customer's action.")
    common: dict[str, Any] = {
        "customer": customer,
        "subscription": subscription,
        "hosted_invoice_url": invoice.hosted_invoice_url,
    }
    if kind is EventKind.INVOICE_PAYMENT_ACTION_REQUIRED:
        signals.send_after_commit(
            signals.payment_action_required, sender=Invoice, invoice=row, **common
        )
        return EventResult()
    signals.send_after_commit(
        signals.payment_failed,
        sender=Subscription if subscription is not None else Customer,
        order=None,
        amount=invoice.amount_due,
        currency=invoice.currency,
        invoice_id=invoice.id,
        failure_message="The payment failed.",
        attempt_count=invoice.attempt_count,
        next_payment_attempt=invoice.next_payment_attempt,
        **common,
    )
    return EventResult()


def _signal_paid(
    row: Invoice, invoice: ProviderInvoice, customer: Customer, subscription: Subscription | None
) -> None:
    signals.send_after_commit(
        signals.payment_succeeded,
        sender=Subscription if subscription is not None else Customer,
        customer=customer,
        subscription=subscription,
        order=None,
        amount=invoice.amount_paid,
        currency=invoice.currency,
        invoice_id=invoice.id,
        invoice=row,
        hosted_invoice_url=invoice.hosted_invoice_url,
    )
    if invoice.attempt_count > 1:
        # Paid on a retry after failed attempts: the dunning recovered it.
        signals.send_after_commit(
            signals.payment_recovered,
            sender=Invoice,
            invoice=row,
            customer=customer,
            subscription=subscription,
            attempts=invoice.attempt_count,
        )
