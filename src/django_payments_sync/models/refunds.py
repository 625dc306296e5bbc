"""Refunds of paid orders, as the provider reports them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.models.base import TimestampedModel, provider_choices


class RefundStatus(models.TextChoices):
    #: Asked for, the provider's answer not known yet.
    REQUESTED = "requested", _("Requested")
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


#: Refund statuses whose amount counts as refunded (Stripe counts a pending refund too).
COUNTED_REFUND_STATUSES = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


class Refund(TimestampedModel):
    """One refund of an order's payment: made here (``payments.refund_order``, the admin
    action, ``payments_sync refund``) or at the provider, and kept right by its events."""

    order = models.ForeignKey(
        "django_payments_sync.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="refunds",
    )
    payment_attempt = models.ForeignKey(
        "django_payments_sync.PaymentAttempt",
        verbose_name=_("payment attempt"),
        on_delete=models.CASCADE,
        related_name="refunds",
    )
    provider = models.CharField(_("provider"), max_length=32, choices=provider_choices)
    external_id = models.CharField(
        _("provider refund id"), max_length=255, null=True, blank=True, default=None
    )
    amount = models.PositiveBigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RefundStatus.choices,
        default=RefundStatus.REQUESTED,
        db_index=True,
    )
    reason = models.CharField(_("reason"), max_length=32, blank=True, default="")
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True, default="")
    last_event_at = models.DateTimeField(_("last event at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_refund_external"
            ),
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount / 100:.2f} {self.currency.upper()} ({self.status})"

    @property
    def counts(self) -> bool:
        return self.status in COUNTED_REFUND_STATUSES
