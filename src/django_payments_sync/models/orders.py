"""Orders (what a customer buys) and payment attempts (each try to pay for one)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.conf import pricing_model_name
from django_payments_sync.models.base import TimestampedModel, provider_choices


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class AbstractOrder(TimestampedModel):
    customer = models.ForeignKey(
        "django_payments_sync.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="orders",
    )
    pricing = models.ForeignKey(
        pricing_model_name(),
        verbose_name=_("pricing"),
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
        help_text=_("Empty for a one-off charge of an ad-hoc amount (see description)."),
    )
    description = models.CharField(
        _("description"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("What a one-off charge is for, as the customer sees it."),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    amount = models.PositiveBigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING,
        db_index=True,
    )
    subscription = models.ForeignKey(
        "django_payments_sync.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    promotion_code = models.ForeignKey(
        "django_payments_sync.PromotionCode",
        verbose_name=_("promotion code"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    amount_discount = models.PositiveBigIntegerField(
        _("discount (minor units)"), default=0, help_text=_("Of the first payment.")
    )
    amount_refunded = models.PositiveBigIntegerField(_("amount refunded (minor units)"), default=0)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self) -> str:
        return f"Order #{self.pk} ({self.status})"


class Order(AbstractOrder):
    class Meta(AbstractOrder.Meta):
        pass


class PaymentAttemptStatus(models.TextChoices):
    CREATED = "created", _("Created")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    EXPIRED = "expired", _("Expired")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class AbstractPaymentAttempt(TimestampedModel):
    """One try to pay an order: a provider checkout session and how it ended."""

    order = models.ForeignKey(
        "django_payments_sync.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="payment_attempts",
    )
    provider = models.CharField(_("provider"), max_length=32, choices=provider_choices)
    external_id = models.CharField(
        _("checkout session id"), max_length=255, null=True, blank=True, default=None
    )
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=PaymentAttemptStatus.choices,
        default=PaymentAttemptStatus.CREATED,
        db_index=True,
    )
    checkout_url = models.URLField(_("checkout URL"), max_length=2048, blank=True, default="")
    failure_message = models.TextField(_("failure message"), blank=True, default="")
    last_event_at = models.DateTimeField(_("last event at"), null=True, blank=True)
    subscription_external_id = models.CharField(
        _("provider subscription id"),
        max_length=255,
        blank=True,
        default="",
        db_index=True,
        help_text=_(
            "The subscription a completed checkout opened at the provider: the order is linked "
            "to it as soon as it is known locally."
        ),
    )

    payment_external_id = models.CharField(
        _("provider payment id"),
        max_length=255,
        blank=True,
        default="",
        db_index=True,
        help_text=_("The payment a paid one-time checkout made at the provider (refunds name it)."),
    )
    amount_refunded = models.PositiveBigIntegerField(_("amount refunded (minor units)"), default=0)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id or '-'} ({self.status})"


class PaymentAttempt(AbstractPaymentAttempt):
    class Meta(AbstractPaymentAttempt.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_attempt_session"
            ),
        ]
