"""The durable log of webhook events received from providers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.models.base import provider_choices


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    DEFERRED = "deferred", _("Deferred")
    IGNORED = "ignored", _("Ignored")


class WebhookEvent(models.Model):
    """A verified provider event: stored first, then applied in order under a lock."""

    provider = models.CharField(_("provider"), max_length=32, choices=provider_choices)
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=128, db_index=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    provider_created_at = models.DateTimeField(_("created at the provider"))
    ordering_key = models.CharField(
        _("ordering key"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Events with the same key are applied one at a time, oldest first."),
    )
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=WebhookEventStatus.choices,
        default=WebhookEventStatus.RECEIVED,
    )
    waiting_for = models.CharField(
        _("waiting for"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("What a deferred event waits for, e.g. 'customer:cus_123'."),
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-provider_created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payments_sync_event_id"),
        ]
        indexes = [
            models.Index(
                fields=["status", "ordering_key", "provider_created_at"],
                name="payments_sync_event_queue",
            ),
            models.Index(fields=["waiting_for"], name="payments_sync_event_waiting"),
            # Retention (events prune): the settled events, oldest first.
            models.Index(fields=["status", "processed_at"], name="payments_sync_event_settled"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.type} ({self.status})"
