"""What the sync remembers beyond links: deletions at the provider, and its own small state."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.models.base import provider_choices


class ProviderDeletion(models.Model):
    """A provider object known to be deleted: no event links a local row to it again, and no
    push re-creates it unless asked (``RECREATE_DELETED`` or ``push --recreate-deleted``).

    Recorded whether or not the object was ever linked, so a deletion that arrives before the
    creation it follows is not lost.
    """

    provider = models.CharField(_("provider"), max_length=32, choices=provider_choices)
    object_type = models.CharField(_("object type"), max_length=32)
    external_id = models.CharField(_("external id"), max_length=255)
    deleted_at = models.DateTimeField(_("deleted at the provider"))
    event_id = models.CharField(
        _("event id"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("The event that told, or empty when a push found the object gone."),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider deletion")
        verbose_name_plural = _("provider deletions")
        ordering = ["-deleted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "object_type", "external_id"], name="payments_sync_deletion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.object_type}:{self.external_id} deleted"


class SyncState(models.Model):
    """Small durable values of the library: the installation id, reconcile checkpoints."""

    key = models.CharField(_("key"), max_length=191, unique=True)
    value = models.JSONField(_("value"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync state")

    def __str__(self) -> str:
        return self.key
