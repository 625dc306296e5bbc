"""Refunds: of a paid order's payment, in full or in part, kept right by the provider's events.

:func:`refund_order` refunds (the interactor, the admin action and ``payments_sync refund``
call it); :func:`record_provider_refund` applies a refund as the provider reports it (its
answer, ``REFUND_CREATED``, ``REFUND_UPDATED`` and the refunds ``PAYMENT_REFUNDED`` lists),
whoever made it. The order's and the payment attempt's ``amount_refunded`` and status are then
the sum of their refunds that count (pending or succeeded): ``partially_refunded`` below the
amount, ``refunded`` at it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from django_payments_sync import signals
from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import REFUND_REASONS, ProviderRefund, RefundData
from django_payments_sync.exceptions import PolicyViolation, ProviderError, UnsupportedOperation
from django_payments_sync.models import (
    COUNTED_REFUND_STATUSES,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    Refund,
    RefundStatus,
)

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


def paid_attempt(order: Order) -> PaymentAttempt | None:
    """The attempt that paid ``order`` at the provider with a payment a refund can name."""
    return (
        order.payment_attempts.filter(status__in=PAID_ATTEMPT_STATUSES)
        .exclude(payment_external_id="")
        .order_by("-created_at", "-pk")
        .first()
    )


def refundable_amount(order: Order) -> int:
    """What is left to refund: the amount less the refunds that count or are being asked for."""
    committed = (
        order.refunds.filter(status__in=(RefundStatus.REQUESTED, *COUNTED_REFUND_STATUSES))
        .aggregate(total=Sum("amount"))
        .get("total")
        or 0
    )
    return max(order.amount - int(committed), 0)


def refund_order(order: Order, amount: int | None = None, *, reason: str = "") -> Refund:
    """Refund ``amount`` (minor units; all that is left when ``None``) of ``order``'s payment.

    Refused with ``PolicyViolation``: an order that is not paid or has no provider payment
    (``not_refundable``), an amount not between 1 and what is left (``refund_amount``), an
    unknown reason (``refund_reason``). The local :class:`Refund` is written first, so that a
    provider failure loses nothing: a refused refund is marked ``failed`` with the provider's
    message (and the error raised); one whose answer was lost is completed by its events.
    """
    if reason and reason not in REFUND_REASONS:
        raise PolicyViolation(
            _("A refund's reason is one of %(reasons)s.") % {"reasons": ", ".join(REFUND_REASONS)},
            code="refund_reason",
        )
    from django_payments_sync.sync.accounts import check_account

    backend = get_backend()
    check_account(backend)  # never a refund into another account than the installation's
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        attempt = paid_attempt(locked)
        if attempt is not None and attempt.provider != backend.provider_name:
            raise PolicyViolation(
                _("Order #%(id)s was paid through %(paid)s, not %(configured)s.")
                % {"id": locked.pk, "paid": attempt.provider, "configured": backend.provider_name},
                code="not_refundable",
            )
        if locked.status not in REFUNDABLE_ORDER_STATUSES or attempt is None:
            raise PolicyViolation(
                _("Order #%(id)s is %(status)s: only a paid order can be refunded.")
                % {"id": locked.pk, "status": locked.get_status_display().lower()},
                code="not_refundable",
            )
        left = refundable_amount(locked)
        wanted = left if amount is None else amount
        if not isinstance(wanted, int) or isinstance(wanted, bool) or not 0 < wanted <= left:
            raise PolicyViolation(
                _("A refund of order #%(id)s is between 1 and %(left)s (minor units).")
                % {"id": locked.pk, "left": left},
                code="refund_amount",
            )
        refund = Refund.objects.create(
            order=locked,
            payment_attempt=attempt,
            provider=attempt.provider,
            amount=wanted,
            currency=locked.currency,
            reason=reason,
        )
    data = RefundData(
        payment_id=attempt.payment_external_id,
        amount=wanted,
        reason=reason,
        metadata={METADATA_REFUND_KEY: str(refund.pk), "payments_sync_order": str(locked.pk)},
    )
    try:
        answer = backend.create_refund(data, idempotency_key=f"payments-sync-refund-{refund.pk}")
    except ProviderError as exc:
        if not exc.retryable:
            Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
                status=RefundStatus.FAILED, failure_reason=str(exc.user_message)[:255]
            )
        raise
    except UnsupportedOperation:
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
            status=RefundStatus.FAILED, failure_reason="The provider does not offer refunds."
        )
        raise
    return record_provider_refund(attempt.provider, answer, refund=refund) or refund


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
        order = settle(row.order_id, row.payment_attempt_id)
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


def settle(order_id: Any, attempt_id: Any) -> Order:
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


class RefundService:
    """The interactor's refunds (``payments.refunds``)."""

    def refund_order(self, order: Order, amount: int | None = None, *, reason: str = "") -> Refund:
        return refund_order(order, amount, reason=reason)

    def refundable_amount(self, order: Order) -> int:
        return refundable_amount(order)

    def list_for(self, order: Order) -> Any:
        return order.refunds.order_by("-created_at", "-pk")
