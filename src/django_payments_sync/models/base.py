"""Abstract building blocks shared by the models: provider links, sync state, timestamps."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


def provider_choices() -> list[tuple[str, str]]:
    """Providers a row can link to: the shipped backends (``backends.PROVIDERS``, Stripe
    first), then the configured one if it is another."""
    from django_payments_sync.backends import PROVIDERS

    choices = [(name, label) for name, (label, _path) in PROVIDERS.items()]
    try:
        from django_payments_sync.backends import get_backend_class

        backend = get_backend_class()
        name = getattr(backend, "provider_name", "")
        if name and name not in dict(choices):
            choices.append((name, str(getattr(backend, "display_name", "") or name)))
    except Exception:
        pass
    return choices


class SyncStatus(models.TextChoices):
    """Whether a local row's latest state has reached the provider."""

    SYNCED = "synced", _("Synced")
    PENDING = "pending", _("Pending")
    FAILED = "failed", _("Failed")


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class SyncedModel(TimestampedModel):
    """A local row that is pushed to the provider; it remembers whether the last push landed."""

    sync_status = models.CharField(
        _("sync status"),
        max_length=16,
        choices=SyncStatus.choices,
        default=SyncStatus.PENDING,
        db_index=True,
    )
    sync_error = models.TextField(_("last sync error"), blank=True, default="")
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)

    class Meta:
        abstract = True


class ExternalPaymentProvider(TimestampedModel):
    """Links a local row to its record at a payment provider: the provider and its id, nothing more.

    ``content_hash`` is the hash of what was last pushed, so an unchanged row costs no write
    call; ``last_event_at``/``last_event_id`` are the provider time and id of the last webhook
    event applied, so an older event never overwrites newer state.
    """

    provider = models.CharField(_("provider"), max_length=32, choices=provider_choices)
    external_id = models.CharField(_("external id"), max_length=255)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, default="")
    last_event_at = models.DateTimeField(_("last event at"), null=True, blank=True)
    last_event_id = models.CharField(_("last event id"), max_length=255, blank=True, default="")
    account = models.CharField(
        _("provider account"),
        max_length=255,
        blank=True,
        default="",
        help_text=_(
            "The provider account the object lives in (Stripe: 'acct_...:test' or ':live'). "
            "Empty for links made before accounts were recorded."
        ),
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id}"
