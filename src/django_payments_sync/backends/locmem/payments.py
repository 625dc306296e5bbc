"""The in-memory backend: payments of one-time checkouts and their refunds."""

from __future__ import annotations

import dataclasses

from django_payments_sync.backends.locmem.state import LocmemState
from django_payments_sync.backends.types import (
    REFUND_REASONS,
    EventKind,
    PaymentData,
    ProviderPayment,
    ProviderRefund,
    RefundData,
)
from django_payments_sync.exceptions import PermanentProviderError


class LocmemPayments(LocmemState):
    """Payments (one per paid one-time checkout) and refunds, with their events."""

    def reset(self) -> None:
        super().reset()
        self.payments: dict[str, ProviderPayment] = {}
        self.refunds: dict[str, ProviderRefund] = {}

    def _new_payment(self, customer_id: str, amount: int, currency: str) -> ProviderPayment:
        payment_id = self._new_id("pay")
        payment = ProviderPayment(
            id=payment_id,
            payment_id=payment_id,
            amount=amount,
            amount_refunded=0,
            currency=currency,
            refunded=False,
            customer_id=customer_id,
        )
        self.payments[payment_id] = payment
        return payment

    def create_payment(self, data: PaymentData, *, idempotency_key: str) -> ProviderPayment:
        """Charge a customer once: it succeeds (``fail_next("create_payment", CardError(...))``
        plays a decline), with ``PAYMENT_SUCCEEDED``."""
        self._record("create_payment", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_payment", data)
        if earlier is not None:
            return earlier
        self._get(self.customers, data.customer_id, "customer")
        if data.amount < 1:
            raise PermanentProviderError("The amount must be 1 or more.", param="amount")
        payment = dataclasses.replace(
            self._new_payment(data.customer_id, data.amount, data.currency),
            metadata=dict(data.metadata),
        )
        self.payments[payment.id] = payment
        self._remember(idempotency_key, "create_payment", data, payment)
        self._emit(EventKind.PAYMENT_SUCCEEDED, "payment", payment, data.customer_id)
        return payment

    def _settled(self, payment: ProviderPayment) -> ProviderPayment:
        refunds = [r for r in self.refunds.values() if r.payment_id == payment.id]
        refunded = sum(r.amount for r in refunds if r.status in ("succeeded", "pending"))
        payment = dataclasses.replace(
            payment,
            amount_refunded=refunded,
            refunded=refunded >= payment.amount,
            refunds=tuple(reversed(refunds)),
        )
        self.payments[payment.id] = payment
        return payment

    def create_refund(self, data: RefundData, *, idempotency_key: str) -> ProviderRefund:
        self._record("create_refund", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_refund", data)
        if earlier is not None:
            return earlier
        payment = self._get(self.payments, data.payment_id, "payment")
        left = payment.amount - payment.amount_refunded
        if left <= 0:
            raise PermanentProviderError(
                f"Payment {payment.id} has already been refunded.", code="charge_already_refunded"
            )
        amount = left if data.amount is None else data.amount
        if amount <= 0 or amount > left:
            raise PermanentProviderError(
                f"Refund amount {amount} is not between 1 and the unrefunded {left}.",
                param="amount",
                code="amount_too_large",
            )
        if data.reason and data.reason not in REFUND_REASONS:
            raise PermanentProviderError(f"Invalid reason {data.reason!r}.", param="reason")
        refund = ProviderRefund(
            id=self._new_id("re"),
            payment_id=payment.id,
            amount=amount,
            currency=payment.currency,
            status="succeeded",
            customer_id=payment.customer_id,
            reason=data.reason,
            metadata=dict(data.metadata),
        )
        self.refunds[refund.id] = refund
        payment = self._settled(payment)
        self._remember(idempotency_key, "create_refund", data, refund)
        self._emit(EventKind.REFUND_CREATED, "refund", refund, payment.customer_id)
        self._emit(EventKind.PAYMENT_REFUNDED, "payment", payment, payment.customer_id)
        return refund

    # --- test helpers ---------------------------------------------------------------------
    def fail_refund(self, refund_id: str, reason: str = "lost_or_stolen_card") -> ProviderRefund:
        """Play the bank returning a refund: it fails and its amount is unrefunded again."""
        self._record("fail_refund", (refund_id,), {"reason": reason})
        refund = self._get(self.refunds, refund_id, "refund")
        refund = dataclasses.replace(refund, status="failed", failure_reason=reason)
        self.refunds[refund.id] = refund
        self._settled(self.payments[refund.payment_id])
        self._emit(
            EventKind.REFUND_UPDATED,
            "refund",
            refund,
            refund.customer_id,
            {"status": "succeeded"},
        )
        return refund
