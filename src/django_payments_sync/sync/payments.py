"""What the provider reports about payments, written to the local rows: a one-off charge's
attempt and order settle once; refunds keep the order's and the attempt's totals and statuses.

The webhook handlers and the services that make charges and refunds (``interactor.charges``,
``interactor.refunds``) both come here, so each row has one writer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from django_payments_sync import signals
from django_payments_sync.backends.types import (
    METADATA_ATTEMPT_KEY,
    ProviderPayment,
    ProviderRefund,
)
from django_payments_sync.models import (
    COUNTED_REFUND_STATUSES,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    Refund,
    RefundStatus,
)

__all__ = [
    "METADATA_REFUND_KEY",
    "PAID_ATTEMPT_STATUSES",
    "REFUNDABLE_ORDER_STATUSES",
    "apply_payment_event",
    "record_provider_refund",
    "settle_charge",
    "settle_refunds",
    "signal_order_payment",
]

#: Metadata key of a refund made here: the local Refund's pk (links its events back to it).
METADATA_REFUND_KEY = "payments_sync_refund"
#: Order statuses a refund may be made in.
REFUNDABLE_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
#: Attempt statuses of a payment that was made.
PAID_ATTEMPT_STATUSES = (
    PaymentAttemptStatus.SUCCEEDED,
    PaymentAttemptStatus.PARTIALLY_REFUNDED,
    PaymentAttemptStatus.REFUNDED,
)
#: A refund's status moves forward only: an older or repeated event never undoes a newer one.
_STATUS_ORDER = {
    RefundStatus.REQUESTED: 0,
    RefundStatus.PENDING: 1,
    RefundStatus.SUCCEEDED: 2,
    RefundStatus.FAILED: 3,
    RefundStatus.CANCELED: 3,
}


# --- one-off charges ----------------------------------------------------------------------


def settle_charge(
    attempt: PaymentAttempt,
    payment: ProviderPayment | None,
    *,
    failure: str = "",
    at: dt.datetime | None = None,
) -> Order:
    """Settle a charge's attempt and order once: paid, failed, or left waiting (processing).

    Only an attempt still ``created`` moves, under its row lock, so the answer and the events
    (in any order, any number of times) settle it and send its signal exactly once."""
    with transaction.atomic():
        locked = (
            PaymentAttempt.objects.select_for_update()
            .select_related("order__customer")
            .get(pk=attempt.pk)
        )
        order = locked.order
        if payment is not None and not locked.payment_external_id:
            locked.payment_external_id = payment.payment_id
            locked.save(update_fields=["payment_external_id", "updated_at"])
        if locked.status != PaymentAttemptStatus.CREATED:
            return order
        if payment is not None and payment.status not in ("succeeded", "failed"):
            return order
        paid = payment is not None and payment.status == "succeeded"
        message = failure or (payment.failure_message if payment is not None else "")
        locked.status = PaymentAttemptStatus.SUCCEEDED if paid else PaymentAttemptStatus.FAILED
        locked.failure_message = "" if paid else message or "The payment failed."
        locked.last_event_at = at or locked.last_event_at
        locked.save(update_fields=["status", "failure_message", "last_event_at", "updated_at"])
        order.status = OrderStatus.PAID if paid else OrderStatus.FAILED
        order.paid_at = timezone.now() if paid else None
        order.save(update_fields=["status", "paid_at", "updated_at"])
        signal_order_payment(order, failure=None if paid else locked.failure_message)
    return order


def signal_order_payment(order: Order, *, failure: str | None = None) -> None:
    """Tell the host, after commit, that an order's payment succeeded (``failure`` ``None``) or
    failed (with that message): ``payment_succeeded`` or ``payment_failed``, no invoice."""
    signals.send_after_commit(
        signals.payment_succeeded if failure is None else signals.payment_failed,
        sender=Order,
        customer=order.customer,
        subscription=None,
        order=order,
        amount=order.amount,
        currency=order.currency,
        invoice_id=None,
        hosted_invoice_url=None,
        **({} if failure is None else {"failure_message": failure}),
    )


def apply_payment_event(
    provider_name: str, payment: ProviderPayment, at: dt.datetime
) -> Order | None:
    """A payment's event: the off-session charge it belongs to settles (``None``: not ours, or a
    checkout's, which its checkout events settle)."""
    pk = payment.metadata.get(METADATA_ATTEMPT_KEY, "")
    attempts = PaymentAttempt.objects.filter(provider=provider_name, external_id__isnull=True)
    attempt = attempts.filter(pk=int(pk)).first() if pk.isdigit() else None
    if attempt is None:
        attempt = attempts.filter(payment_external_id=payment.payment_id).first()
    if attempt is None:
        return None
    return settle_charge(attempt, payment, at=at)


# --- refunds -----------------------------------------------------------------------------


def _local_status(value: str) -> RefundStatus:
    try:
        return RefundStatus(value)
    except ValueError:  # "requires_action" and anything newer: not done yet
        return RefundStatus.PENDING


def _find(provider: str, data: ProviderRefund) -> Refund | None:
    rows = Refund.objects.select_for_update().select_related("order__customer", "payment_attempt")
    found = rows.filter(provider=provider, external_id=data.id).first()
    if found is None:
        pk = data.metadata.get(METADATA_REFUND_KEY, "")
        if pk.isdigit():
            found = rows.filter(provider=provider, pk=int(pk), external_id__isnull=True).first()
    return found


def record_provider_refund(
    provider: str,
    data: ProviderRefund,
    *,
    at: dt.datetime | None = None,
    refund: Refund | None = None,
) -> Refund | None:
    """Apply a refund as the provider reports it; ``None`` for one of no local payment.

    A refund made elsewhere (the provider's dashboard) gets its local row here. The status
    only moves forward; the order and the attempt are settled from their refunds, and
    ``order_refunded`` is sent once, when a refund first counts.
    """
    with transaction.atomic():
        row = _find(provider, data)
        if row is None and refund is not None:
            row = Refund.objects.select_for_update().get(pk=refund.pk)
        if row is None:
            attempt = (
                PaymentAttempt.objects.select_for_update()
                .filter(provider=provider, payment_external_id=data.payment_id)
                .select_related("order")
                .first()
            )
            if attempt is None or not data.payment_id:
                return None
            row = Refund(
                order=attempt.order,
                payment_attempt=attempt,
                provider=provider,
                amount=data.amount,
                currency=data.currency or attempt.order.currency,
                reason=data.reason,
            )
        status = _local_status(data.status)
        counted_before = row.pk is not None and row.counts
        if _STATUS_ORDER[status] >= _STATUS_ORDER[RefundStatus(row.status)]:
            row.status = status
            row.failure_reason = data.failure_reason or row.failure_reason
        row.external_id = data.id
        row.amount = data.amount or row.amount
        if at is not None and (row.last_event_at is None or at > row.last_event_at):
            row.last_event_at = at
        row.save()
        order = settle_refunds(row.order_id, row.payment_attempt_id)
        if row.counts and not counted_before:
            signals.send_after_commit(
                signals.order_refunded,
                sender=Order,
                order=order,
                refund=row,
                customer=order.customer,
                amount=row.amount,
                currency=row.currency,
                fully_refunded=order.status == OrderStatus.REFUNDED,
            )
    return row


def settle_refunds(order_id: Any, attempt_id: Any) -> Order:
    """The order's and the attempt's refunded amounts and statuses, from their refunds."""
    order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
    attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
    counted = Refund.objects.filter(status__in=COUNTED_REFUND_STATUSES)

    def total(**where: Any) -> int:
        return int(counted.filter(**where).aggregate(total=Sum("amount"))["total"] or 0)

    order.amount_refunded = total(order_id=order.pk)
    if order.status in (*REFUNDABLE_ORDER_STATUSES, OrderStatus.REFUNDED):
        order.status = _refunded_status(order.amount_refunded, order.amount, OrderStatus)
    order.save(update_fields=["amount_refunded", "status", "updated_at"])
    attempt.amount_refunded = total(payment_attempt_id=attempt.pk)
    if attempt.status in PAID_ATTEMPT_STATUSES:
        attempt.status = _refunded_status(
            attempt.amount_refunded, order.amount, PaymentAttemptStatus
        )
    attempt.save(update_fields=["amount_refunded", "status", "updated_at"])
    return order


def _refunded_status(refunded: int, amount: int, choices: Any) -> Any:
    if refunded <= 0:
        return choices.PAID if choices is OrderStatus else choices.SUCCEEDED
    return choices.REFUNDED if refunded >= amount else choices.PARTIALLY_REFUNDED
