"""Store and apply a verified event in the request, in one transaction under its key's lock.

The common event (its ordering key has nothing else pending, the provider has not sent it
before) costs one transaction: the lock, the handler's own queries, and one statement that
inserts the event's row in its final state *unless* an older event of its key is still
pending (``INSERT ... SELECT ... WHERE NOT EXISTS``). The event is applied optimistically:
when that insert finds a pending event of the key (nothing inserted) or a stored copy of the
event (the unique constraint), the whole transaction rolls back, so the handler's writes and
its after-commit signals are undone, and the event takes the general path: stored behind the
backlog and applied in order, or answered as a duplicate. Both are rare, and cost what they
did before plus the handler's rolled-back queries. The event is the one the view verified: it
is not parsed again. A handler that fails takes the general path of :mod:`.processing`.
"""

from __future__ import annotations

import logging
import traceback

from django.db import IntegrityError, connection
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


class _Backlog(Exception):
    """Raised inside the locked transaction to roll an optimistic apply back."""


def insert_unless_pending(row: WebhookEvent) -> bool:
    """Insert ``row`` in one statement unless an event of its key waits to be applied.

    ``INSERT ... SELECT ... WHERE NOT EXISTS``: false, with nothing inserted, when the log
    holds a received event of the row's ordering key (the snapshot of this statement is taken
    after the caller's lock, so every pending event committed before it is seen). A stored
    copy of the same event raises IntegrityError (the unique provider and event id).
    """
    meta = WebhookEvent._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    table = qn(meta.db_table)
    columns = ", ".join(qn(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # MySQL/MariaDB need a table for a WHERE: DUAL, its dummy one.
    source = " FROM DUAL" if connection.vendor == "mysql" else ""
    pending = (
        f"SELECT 1 FROM {table} WHERE {qn('provider')} = %s AND {qn('status')} = %s"
        f" AND {qn('ordering_key')} = %s"
    )
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {placeholders}{source}"
        f" WHERE NOT EXISTS ({pending})"
    )
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {qn(str(meta.pk.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, row.provider, Status.RECEIVED, row.ordering_key])
        if returning:
            found = cursor.fetchone()
            if found is None:
                return False
            row.pk = found[0]
        else:
            if cursor.rowcount != 1:
                return False
            row.pk = connection.ops.last_insert_id(cursor, meta.db_table, str(meta.pk.column))
    row._state.adding = False
    row._state.db = connection.alias
    return True


def _settle_new(row: WebhookEvent, event: ProviderEvent, outcome: processing.Outcome) -> int:
    """Insert ``row`` in its final state, release what it made known; how many were released.

    Raises :class:`_Backlog` when an older event of its key is pending (nothing inserted).
    """
    now = timezone.now()
    row.status = outcome.status
    row.waiting_for = outcome.waiting_for[:255]
    row.last_error = outcome.note
    row.attempts = 1
    row.processed_at = now if outcome.status in (Status.PROCESSED, Status.IGNORED) else None
    if not insert_unless_pending(row):
        raise _Backlog
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
    duplicate: the caller decides what a duplicate needs. A database error taking the lock
    propagates with nothing stored (the provider retries); a failure while it is applied
    rolls the apply back and stores the event as failed.
    """
    ordering_key = processing.ordering_key_for(event)[:255]
    lock_name = locks.lock_key(event.provider, ordering_key)
    row = _new_row(event, ordering_key)
    stage = "lock"
    released = 0
    try:
        with locks.locked(lock_name):
            stage = "apply"
            outcome = processing.run_handlers(event)
            stage = "settle"
            released = _settle_new(row, event, outcome)
    except _Backlog:
        # An older event of the key is pending: the apply was rolled back.
        return _behind_backlog(event, ordering_key, lock_name)
    except Exception as exc:
        if stage == "lock":
            raise
        if isinstance(exc, IntegrityError) and stage != "apply":
            # The same event stored at the same moment by another delivery.
            duplicate = _stored(event)
            if duplicate is not None:
                return duplicate, False
        logger.exception("Webhook event %s (%s) failed", event.id, event.type)
        return _store_failed(row, lock_name, traceback.format_exc())
    if released:
        # Events waiting for what this one made known: applied now, in order.
        processing.process_key(event.provider, ordering_key)
    return row, True


def _behind_backlog(
    event: ProviderEvent, ordering_key: str, lock_name: str
) -> tuple[WebhookEvent, bool]:
    """The general path: store the event behind its key's pending ones, then apply them in order.

    A database error here propagates with nothing stored (the provider retries).
    """
    row = _new_row(event, ordering_key)
    try:
        with locks.locked(lock_name):
            found = _stored_or_pending(event, ordering_key)
            if found is not None and found.event_id == event.id:
                return found, False
            row.save(force_insert=True)
    except IntegrityError:
        # The same event stored at the same moment by another delivery.
        duplicate = _stored(event)
        if duplicate is None:
            raise
        return duplicate, False
    processing.process_key(event.provider, ordering_key, until=row)
    return row, True
