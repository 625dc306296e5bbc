"""Usage-based billing: meters (what is counted), pushed like prices, and the local outbox of
usage events (each sent exactly once to the provider, in order)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.models.base import ExternalPaymentProvider, SyncedModel, TimestampedModel


class MeterAggregation(models.TextChoices):
    SUM = "sum", _("Sum of the quantities")
    COUNT = "count", _("Number of events")
    LAST = "last", _("Last quantity")


class Meter(SyncedModel):
    """A usage meter (Stripe: a billing meter). Its event name and aggregation are immutable at
    the provider: changing them pushes a new meter and deactivates the old one."""

    display_name = models.CharField(_("display name"), max_length=250)
    event_name = models.CharField(
        _("event name"),
        max_length=100,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9_.-]+$", _("Lower-case letters, digits, _ . -"))],
        help_text=_("The name record_usage() is given, e.g. 'api_calls'."),
    )
    aggregation = models.CharField(
        _("aggregation"), max_length=8, choices=MeterAggregation.choices, default="sum"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["event_name"]
        verbose_name = _("meter")
        verbose_name_plural = _("meters")

    def __str__(self) -> str:
        return self.display_name


class ExternalMeter(ExternalPaymentProvider):
    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.CASCADE, related_name="external_meters"
    )

    class Meta:
        verbose_name = _("external meter")
        verbose_name_plural = _("external meters")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extmeter_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "meter"], name="payments_sync_extmeter_one"
            ),
        ]


class UsageEventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (refused by the provider)")


class UsageEvent(TimestampedModel):
    """One ``record_usage()`` call: kept until the provider has it, sent in ``pk`` order."""

    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.PROTECT, related_name="usage_events"
    )
    customer = models.ForeignKey(
        "django_payments_sync.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="usage_events",
    )
    quantity = models.BigIntegerField(_("quantity"))
    timestamp = models.DateTimeField(_("when the usage happened"), db_index=True)
    identifier = models.CharField(
        _("identifier"),
        max_length=100,
        unique=True,
        help_text=_("Sent with the event: the provider counts one identifier once."),
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=UsageEventStatus.choices,
        default=UsageEventStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [models.Index(fields=["status", "id"], name="payments_sync_usage_outbox")]

    def __str__(self) -> str:
        return f"{self.meter.event_name} {self.quantity} ({self.status})"
