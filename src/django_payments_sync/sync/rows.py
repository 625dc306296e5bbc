"""What every push of one row shares: the result types, the sync state of a row, its link to
the provider, and the deletions that stick.

The pushes themselves: :mod:`.customers`, :mod:`.catalog` (products and prices),
:mod:`.subscriptions`.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_payments_sync.exceptions import (
    PermanentProviderError,
    ProviderError,
    UnsupportedOperation,
)
from django_payments_sync.models import (
    ProviderDeletion,
    SyncStatus,
)

if TYPE_CHECKING:
    from django.db.models import Model


logger = logging.getLogger("django_payments_sync.sync")

#: "Not looked up yet" for the optional preloaded External rows (None means "there is none").
UNKNOWN_LINK: Any = object()


class SyncAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    ARCHIVED = "archived"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    #: Left alone on purpose: the provider object was deleted at the provider (deletions stick).
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class SyncResult:
    """What a push did to one local row at the provider (or would do, with ``dry_run``)."""

    object_type: str  # "customer" | "product" | "price" | "subscription"
    local_id: str
    action: SyncAction
    external_id: str | None = None
    #: What failed: the provider's error, or ``UnsupportedOperation`` for what the backend
    #: cannot do at all (a metered price without ``Capability.METERS``).
    error: ProviderError | UnsupportedOperation | None = None
    dry_run: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.action is not SyncAction.FAILED


def mark_synced(instance: Model) -> None:
    """Record on ``instance`` (without a save signal) that its latest state reached the provider."""
    set_sync_status(instance, SyncStatus.SYNCED, "", timezone.now())


def mark_sync_error(instance: Model, error: ProviderError) -> None:
    """Pending for a transient error (retry later), failed for a permanent one (fix the data)."""
    status = SyncStatus.PENDING if error.retryable else SyncStatus.FAILED
    set_sync_status(instance, status, f"{type(error).__name__}: {error}"[:2000], None)


def set_sync_status(instance: Model, status: str, error: str, when: Any) -> None:
    changes: dict[str, Any] = {"sync_status": status, "sync_error": error}
    if when is not None:
        changes["synced_at"] = when
    # A queryset update: no post_save, so the autosync receivers do not fire again.
    type(instance)._default_manager.filter(pk=instance.pk).update(**changes)
    for name, value in changes.items():
        setattr(instance, name, value)


def link_of(model: type[Any], provider: str, **lookup: Any) -> Any | None:
    return model.objects.filter(provider=provider, **lookup).first()


def create_link(
    model: type[Any], provider: str, external_id: str, content_hash: str, **local: Any
) -> Any:
    """Create the External row of a local row (concurrent pushes converge on one row)."""
    try:
        # A savepoint, so that losing the race does not break a caller's transaction.
        with transaction.atomic():
            return model.objects.create(
                provider=provider, external_id=external_id, content_hash=content_hash, **local
            )
    except IntegrityError:
        # Another process linked the row first: theirs wins (the same object, by idempotency).
        row = model.objects.filter(provider=provider, **local).first()
        if row is None:
            raise PermanentProviderError(
                f"{provider} object {external_id} is already linked to another local row."
            ) from None
        return row


def move_link(ext: Any, external_id: str, content_hash: str) -> None:
    fields = ["external_id", "content_hash", "updated_at"]
    if getattr(ext, "features_hash", "") and ext.external_id != external_id:
        ext.features_hash = ""  # a new provider product has no features attached yet
        fields.append("features_hash")
    ext.external_id = external_id
    ext.content_hash = content_hash
    ext.save(update_fields=fields)


# --- deletions that stick -----------------------------------------------------------------


def deletion_of(provider: str, object_type: str, external_id: str) -> ProviderDeletion | None:
    """The recorded deletion of a provider object, if it was deleted at the provider."""
    if not external_id:
        return None
    return ProviderDeletion.objects.filter(
        provider=provider, object_type=object_type, external_id=external_id
    ).first()


def record_deletion(
    provider: str,
    object_type: str,
    external_id: str,
    *,
    deleted_at: dt.datetime | None = None,
    event_id: str = "",
) -> ProviderDeletion:
    """Remember that a provider object is deleted (idempotent; the first record is kept).

    ``get_or_create`` creates in a savepoint and reads the winner's row when a concurrent
    process recorded it first.
    """
    row, _ = ProviderDeletion.objects.get_or_create(
        provider=provider,
        object_type=object_type,
        external_id=external_id,
        defaults={"deleted_at": deleted_at or timezone.now(), "event_id": event_id},
    )
    return row


def mark_deleted_at_provider(
    provider: str, instance: Any, object_type: str, external_id: str, dry_run: bool
) -> None:
    """Mark a local row whose provider object was deleted ``failed``, with the reason (once)."""
    if dry_run:
        return
    row = deletion_of(provider, object_type, external_id)
    message = deleted_message(object_type, external_id, row)
    if (instance.sync_status, instance.sync_error) != (SyncStatus.FAILED, message):
        set_sync_status(instance, SyncStatus.FAILED, message, None)


def deleted_message(object_type: str, external_id: str, row: ProviderDeletion | None) -> str:
    when = f" on {row.deleted_at:%Y-%m-%d %H:%M} UTC" if row is not None else ""
    told = f" (event {row.event_id})" if row is not None and row.event_id else ""
    return (
        f"The provider {object_type} {external_id} was deleted at the provider{when}{told}; "
        "it is not created again. Run `payments_sync push --recreate-deleted` (or set "
        "RECREATE_DELETED) to create a new one."
    )
