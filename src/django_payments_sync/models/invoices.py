"""Invoices: the local record of each provider invoice that a host needs for its accounting."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.models.base import TimestampedModel, provider_choices


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    UNCOLLECTIBLE = "uncollectible", _("Uncollectible")
    VOID = "void", _("Void")


class Invoice(TimestampedModel):
    """One provider invoice, kept by its webhook events (never pushed: the provider issues it).

    Not a mirror of the provider's object: its id and number, the amounts with discounts and
    tax (``subtotal - amount_discount + tax == total``), the status,
    the period and dates, and the links the customer opens (the hosted page and the PDF).
    Amounts are in minor units of ``currency``.
    """

    customer = models.ForeignKey(
        "django_payments_sync.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="invoices",
    )
    subscription = models.ForeignKey(
        "django_payments_sync.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    provider = models.CharField(_("provider"), max_length=32, choices=provider_choices)
    external_id = models.CharField(_("provider invoice id"), max_length=255)
    number = models.CharField(_("number"), max_length=64, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    billing_reason = models.CharField(_("billing reason"), max_length=64, blank=True, default="")
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.BigIntegerField(_("subtotal"), default=0)
    amount_discount = models.BigIntegerField(
        _("discount"), default=0, help_text=_("What discounts took off the subtotal (before tax).")
    )
    tax = models.BigIntegerField(_("tax"), default=0)
    total = models.BigIntegerField(_("total"), default=0)
    amount_due = models.BigIntegerField(_("amount due"), default=0)
    amount_paid = models.BigIntegerField(_("amount paid"), default=0)
    amount_remaining = models.BigIntegerField(_("amount remaining"), default=0)
    hosted_invoice_url = models.URLField(_("hosted invoice page"), max_length=1000, blank=True)
    invoice_pdf = models.URLField(_("PDF"), max_length=1000, blank=True)
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    period_end = models.DateTimeField(_("period end"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    attempt_count = models.PositiveIntegerField(_("payment attempts"), default=0)
    next_payment_attempt = models.DateTimeField(_("next payment attempt"), null=True, blank=True)
    action_required = models.BooleanField(
        _("customer action required"),
        default=False,
        help_text=_(
            "The payment needs the customer (authentication or another card) on the hosted page."
        ),
    )
    last_event_at = models.DateTimeField(_("last event at"), null=True, blank=True)
    last_event_id = models.CharField(_("last event id"), max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_invoice_id"
            ),
        ]
        indexes = [models.Index(fields=["customer", "-issued_at"], name="payments_sync_inv_cust")]

    def __str__(self) -> str:
        return self.number or self.external_id

    @property
    def is_payable(self) -> bool:
        """An open invoice with something left to pay, on the provider's hosted page."""
        return self.status == InvoiceStatus.OPEN and self.amount_remaining > 0
