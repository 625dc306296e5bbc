"""Store and apply a verified event in the request, in one transaction under its key's lock.

The common event (its ordering key has nothing else pending) costs one transaction: the lock,
one query that finds a stored copy of the event or an older pending one of its key, the
handler's own queries, and the insert of the event's row in its final state. The event is
the one the view verified: it is not parsed again. Anything else (a duplicate, a key with a
backlog, a handler that fails) takes the general path of :mod:`.processing`.
"""

from __future__ import annotations

import logging
import traceback

from django.db import IntegrityError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from django_payments_sync.backends.types import ProviderEvent
from django_payments_sync.models import WebhookEvent, WebhookEventStatus
from django_payments_sync.webhooks import locks, processing

logger = logging.getLogger(__name__)

Status = WebhookEventStatus


def _new_row(event: ProviderEvent, ordering_key: str) -> WebhookEvent:
    return WebhookEvent(
        provider=event.provider,
        event_id=event.id,
        type=event.type[:128],
        livemode=event.livemode,
        provider_created_at=event.created,
        ordering_key=ordering_key,
        payload=event.raw,
    )


def stored_or_pending_query(event: ProviderEvent, ordering_key: str) -> QuerySet[WebhookEvent]:
    """The stored copy of ``event`` first, then the events of its key still to apply.

    (``provider``, ``event_id``) is unique and (``status``, ``ordering_key``, ...) is indexed,
    so its first row is read from one index entry or two, whatever the size of the log (a
    PostgreSQL test checks the plan).
    """
    mine = Q(event_id=event.id)
    own = Case(When(mine, then=Value(1)), default=Value(0), output_field=IntegerField())
    rows = (
        WebhookEvent.objects.filter(provider=event.provider)
        .filter(mine | Q(status=Status.RECEIVED, ordering_key=ordering_key))
        .annotate(own=own)
        .defer("payload")
        .order_by("-own")
    )
    return rows


def _stored_or_pending(event: ProviderEvent, ordering_key: str) -> WebhookEvent | None:
    """One query: the stored copy of ``event`` if any, else an event of its key still to apply."""
    return stored_or_pending_query(event, ordering_key).first()


def _stored(event: ProviderEvent) -> WebhookEvent | None:
    return WebhookEvent.objects.filter(provider=event.provider, event_id=event.id).first()


def _settle_new(row: WebhookEvent, event: ProviderEvent, outcome: processing.Outcome) -> int:
    """Insert ``row`` in its final state, release what it made known; how many were released."""
    now = timezone.now()
    row.status = outcome.status
    row.waiting_for = outcome.waiting_for[:255]
    row.last_error = outcome.note
    row.attempts = 1
    row.processed_at = now if outcome.status in (Status.PROCESSED, Status.IGNORED) else None
    row.save(force_insert=True)
    released = 0
    if outcome.release:
        waiting = WebhookEvent.objects.filter(
            provider=event.provider, status=Status.DEFERRED, waiting_for__in=outcome.release
        )
        released = waiting.update(status=Status.RECEIVED, waiting_for="", updated_at=now)
    processing.announce(row, event, outcome)
    return released


def _store_failed(row: WebhookEvent, lock_name: str, error_text: str) -> tuple[WebhookEvent, bool]:
    """After a rolled-back apply: store the event as failed (the provider delivers it again)."""
    row.pk = None
    row._state.adding = True
    row.status = Status.FAILED
    row.waiting_for = ""
    row.processed_at = None
    row.attempts = 1
    row.last_error = error_text
    try:
        with locks.locked(lock_name):
            row.save(force_insert=True)
    except IntegrityError:
        # Stored meanwhile by another delivery of the same event (which settled it).
        existing = WebhookEvent.objects.filter(provider=row.provider, event_id=row.event_id)
        found = existing.first()
        if found is None:
            raise
        return found, False
    return row, True


def ingest_event(event: ProviderEvent) -> tuple[WebhookEvent, bool]:
    """Store and apply a verified event; ``(row, False)`` when this provider sent its id before.

    The row comes back settled (processed, ignored, deferred or failed), unless it was a
    duplicate: the caller decides what a duplicate needs. A database error before the event
    is applied propagates with nothing stored (the provider retries); a failure while it is
    applied rolls the apply back and stores the event as failed.
    """
    ordering_key = processing.ordering_key_for(event)[:255]
    lock_name = locks.lock_key(event.provider, ordering_key)
    row = _new_row(event, ordering_key)
    stage = "lookup"
    released = 0
    try:
        with locks.locked(lock_name):
            found = _stored_or_pending(event, ordering_key)
            if found is not None and found.event_id == event.id:
                return found, False
            if found is not None:
                # Older events of the key wait: stored as received, applied in order below.
                stage = "store"
                row.save(force_insert=True)
            else:
                stage = "apply"
                outcome = processing.run_handlers(event)
                stage = "settle"
                released = _settle_new(row, event, outcome)
    except Exception as exc:
        if stage == "lookup":
            raise
        if isinstance(exc, IntegrityError) and stage != "apply":
            # The same event stored at the same moment by another delivery.
            duplicate = _stored(event)
            if duplicate is not None:
                return duplicate, False
        if stage == "store":
            raise
        logger.exception("Webhook event %s (%s) failed", event.id, event.type)
        return _store_failed(row, lock_name, traceback.format_exc())
    if stage == "store":
        processing.process_key(event.provider, ordering_key, until=row)
    elif released:
        # Events waiting for what this one made known: applied now, in order.
        processing.process_key(event.provider, ordering_key)
    return row, True
