"""Refunds: of a paid order's payment, in full or in part, kept right by the provider's events.

:func:`refund_order` refunds (the interactor, the admin action and ``payments_sync refund``
call it); :func:`record_provider_refund` applies a refund as the provider reports it (its
answer, ``REFUND_CREATED``, ``REFUND_UPDATED`` and the refunds ``PAYMENT_REFUNDED`` lists),
whoever made it. The order's and the payment attempt's ``amount_refunded`` and status are then
the sum of their refunds that count (pending or succeeded): ``partially_refunded`` below the
amount, ``refunded`` at it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import REFUND_REASONS, RefundData
from django_payments_sync.exceptions import PolicyViolation, ProviderError, UnsupportedOperation
from django_payments_sync.models import (
    COUNTED_REFUND_STATUSES,
    Order,
    PaymentAttempt,
    Refund,
    RefundStatus,
)
from django_payments_sync.sync.payments import (
    METADATA_REFUND_KEY,
    PAID_ATTEMPT_STATUSES,
    REFUNDABLE_ORDER_STATUSES,
    record_provider_refund,
)


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


class RefundService:
    """The interactor's refunds (``payments.refunds``)."""

    def refund_order(self, order: Order, amount: int | None = None, *, reason: str = "") -> Refund:
        return refund_order(order, amount, reason=reason)

    def refundable_amount(self, order: Order) -> int:
        return refundable_amount(order)

    def list_for(self, order: Order) -> Any:
        return order.refunds.order_by("-created_at", "-pk")
