"""Store first, then apply: events of one ordering key are applied one at a time, oldest first."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    IntegerField,
    Min,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.utils import timezone

from django_payments_sync import signals
from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import (
    CATALOG_KINDS,
    Capability,
    ProviderEvent,
    ordering_key_of,
)
from django_payments_sync.conf import payments_settings
from django_payments_sync.models import WebhookEvent, WebhookEventStatus
from django_payments_sync.webhooks import locks

logger = logging.getLogger(__name__)

Status = WebhookEventStatus

#: Events taken per ordering key by one drain before it moves on (bounds one request's work).
DRAIN_LIMIT = 500


def ordering_key_for(event: ProviderEvent) -> str:
    """Events with the same key are applied one at a time, in provider order.

    The backend's key (the customer an event concerns, so a customer's subscription never
    overtakes the customer; one key for the catalog); for a backend that gives none, the
    customer, else the catalog, else the object itself.
    """
    if event.ordering_key:
        return event.ordering_key
    return ordering_key_of(
        event.customer_id, event.object_type, event.object_id, catalog=event.kind in CATALOG_KINDS
    )


# --- storing ------------------------------------------------------------------------------
def store_event(event: ProviderEvent) -> tuple[WebhookEvent, bool]:
    """Persist a verified event; ``(row, False)`` when this provider sent the id before."""
    row = WebhookEvent(
        provider=event.provider,
        event_id=event.id,
        type=event.type[:128],
        livemode=event.livemode,
        provider_created_at=event.created,
        ordering_key=ordering_key_for(event)[:255],
        payload=event.raw,
    )
    try:
        if connection.in_atomic_block:
            # Inside the caller's transaction: a duplicate must not break it.
            with transaction.atomic():
                row.save(force_insert=True)
        else:
            # In autocommit one INSERT is its own transaction, and a duplicate's error leaves
            # nothing to roll back: no BEGIN and COMMIT around it (two round trips fewer).
            row.save(force_insert=True)
        return row, True
    except IntegrityError:
        existing = WebhookEvent.objects.filter(provider=event.provider, event_id=event.id).first()
        if existing is None:
            raise
        return existing, False


# --- applying -----------------------------------------------------------------------------
def _next_pending(provider: str, ordering_key: str) -> WebhookEvent | None:
    """The oldest received event of the key: the earliest second, then rank, then id.

    One query: the events of the key's earliest pending second (usually one), ordered in
    Python, where the ranks live (a CASE over every type costs more to compile than to run).
    """
    pending = WebhookEvent.objects.filter(
        provider=provider, ordering_key=ordering_key, status=Status.RECEIVED
    )
    # Usually the key has one pending event, or its two oldest differ in time: then the oldest
    # is the first by time, found without the subquery. A tie falls back to the full query.
    first_two = list(pending.order_by("provider_created_at")[:2])
    if not first_two:
        return None
    if len(first_two) == 1 or first_two[0].provider_created_at != first_two[1].provider_created_at:
        return first_two[0]
    earliest = pending.order_by().values("ordering_key").annotate(first=Min("provider_created_at"))
    rows = list(pending.filter(provider_created_at=Subquery(earliest.values("first")[:1])))
    if not rows:
        return None
    # Ranked by the kind of the provider's type (the backend knows its names).
    kind_of = get_backend().event_kind
    return min(rows, key=lambda r: (kind_of(r.type).rank, r.event_id))


@dataclass
class _Step:
    row: WebhookEvent
    released: int = 0


@dataclass
class Outcome:
    """What applying an event decided: its status, note, what it waits for, what it releases."""

    status: str
    note: str = ""
    waiting_for: str = ""
    release: tuple[str, ...] = ()


def run_handlers(event: ProviderEvent) -> Outcome:
    """Apply a parsed event inside the caller's locked transaction; writes nothing of the log."""
    from django_payments_sync.sync.autosync import suppress_autosync
    from django_payments_sync.webhooks.handlers import Deferred, apply_event

    backend = get_backend()
    if (
        payments_settings.WEBHOOK_REFETCH
        and event.object_id
        and backend.supports(Capability.RETRIEVE)
    ):
        # The provider's current state instead of the snapshot (costs one API call per event).
        event = backend.refetch(event)
    try:
        # What the provider tells us must not be pushed back to it.
        with suppress_autosync():
            result = apply_event(event)
    except Deferred as deferral:
        return Outcome(Status.DEFERRED, note=str(deferral), waiting_for=deferral.waiting_for)
    status = Status.IGNORED if result.ignored else Status.PROCESSED
    return Outcome(status, note=result.note, release=result.release)


def announce(row: WebhookEvent, event: ProviderEvent, outcome: Outcome) -> None:
    """``webhook_event_processed`` after commit, for an event that was applied (not deferred)."""
    if outcome.status != Status.DEFERRED:
        signals.send_after_commit(
            signals.webhook_event_processed, sender=WebhookEvent, event=row, provider_event=event
        )


def _apply(row: WebhookEvent) -> _Step:
    """Apply one stored event inside the caller's locked transaction and record the outcome."""
    backend = get_backend()
    now = timezone.now()
    if row.provider != backend.provider_name:
        note = f"No backend for {row.provider!r}; the configured one is {backend.provider_name!r}."
        _mark(row, Status.IGNORED, now, note=note)
        return _Step(row)
    event = backend.parse_event(row.payload)
    outcome = run_handlers(event)
    released = _mark(
        row,
        outcome.status,
        now,
        waiting_for=outcome.waiting_for,
        note=outcome.note,
        release=outcome.release,
    )
    announce(row, event, outcome)
    return _Step(row, released=released)


def _mark(
    row: WebhookEvent,
    status: str,
    now: object,
    *,
    waiting_for: str = "",
    note: str = "",
    release: tuple[str, ...] = (),
) -> int:
    """Record ``row``'s outcome and, in the same statement, release the events waiting for
    anything in ``release``; returns how many were released."""
    processed_at = now if status in (Status.PROCESSED, Status.IGNORED) else None
    updated = 1
    if not release:
        # The common case: only this row, a plain update by primary key (no CASE to compile).
        WebhookEvent.objects.filter(pk=row.pk).update(
            status=status,
            waiting_for=waiting_for[:255],
            last_error=note,
            attempts=F("attempts") + 1,
            processed_at=processed_at,
            updated_at=now,
        )
    else:
        updated = _mark_and_release(row, status, now, processed_at, waiting_for, note, release)
    row.status = status
    row.waiting_for = waiting_for[:255]
    row.last_error = note
    row.attempts += 1
    row.processed_at = processed_at  # type: ignore[assignment]
    return updated - 1


def _mark_and_release(
    row: WebhookEvent,
    status: str,
    now: object,
    processed_at: object,
    waiting_for: str,
    note: str,
    release: tuple[str, ...],
) -> int:
    """``_mark`` with releases: one statement for this row and the released ones."""
    own = Q(pk=row.pk)
    mine = When(own, then=Value(status))
    targets = own | Q(provider=row.provider, status=Status.DEFERRED, waiting_for__in=release)
    return WebhookEvent.objects.filter(targets).update(
        status=Case(mine, default=Value(Status.RECEIVED), output_field=CharField()),
        waiting_for=Case(
            When(own, then=Value(waiting_for[:255])), default=Value(""), output_field=CharField()
        ),
        last_error=Case(
            When(own, then=Value(note)), default=F("last_error"), output_field=TextField()
        ),
        attempts=Case(
            When(own, then=F("attempts") + 1), default=F("attempts"), output_field=IntegerField()
        ),
        processed_at=Case(
            When(own, then=Value(processed_at)),
            default=F("processed_at"),
            output_field=DateTimeField(),
        ),
        updated_at=now,
    )


def _record_failure(row: WebhookEvent, lock_name: str, error_text: str) -> None:
    now = timezone.now()
    with locks.locked(lock_name):
        # Conditional: another process may have applied it since our transaction rolled back.
        WebhookEvent.objects.filter(pk=row.pk, status=Status.RECEIVED).update(
            status=Status.FAILED,
            attempts=F("attempts") + 1,
            last_error=error_text,
            updated_at=now,
        )
    row.refresh_from_db()


def _process_next(provider: str, ordering_key: str) -> _Step | None:
    """Apply the oldest received event of ``ordering_key`` under its lock, in one transaction."""
    lock_name = locks.lock_key(provider, ordering_key)
    row: WebhookEvent | None = None
    try:
        with locks.locked(lock_name):
            row = _next_pending(provider, ordering_key)
            if row is None:
                return None
            return _apply(row)
    except Exception:
        if row is None:
            raise
        error_text = traceback.format_exc()
        logger.exception("Webhook event %s (%s) failed", row.event_id, row.type)
        _record_failure(row, lock_name, error_text)
        return _Step(row)


def process_key(provider: str, ordering_key: str, *, until: WebhookEvent | None = None) -> int:
    """Apply the received events of one ordering key, oldest first; returns how many.

    With ``until`` (a stored row) it stops once that event is settled, unless settling it
    released deferred events, which are then applied too; ``until`` is updated in place.
    """
    count = 0
    drain = until is None
    settled = False
    while True:
        step = _process_next(provider, ordering_key)
        if step is None:
            break
        count += 1
        if step.released:
            drain = True
        if until is not None and step.row.pk == until.pk:
            settled = True
            for name in ("status", "waiting_for", "last_error", "attempts", "processed_at"):
                setattr(until, name, getattr(step.row, name))
            if not drain:
                break
        if drain and count >= DRAIN_LIMIT and (until is None or settled):
            break  # a long backlog: the rest is left to the next request or `events process`
    if until is not None and not settled:
        # Another process applied it while we waited for the lock.
        until.refresh_from_db()
    return count


def process_event(event: WebhookEvent | int) -> WebhookEvent | None:
    """Settle one stored event (after the older ones of its key); returns its final row."""
    row = (
        event if isinstance(event, WebhookEvent) else WebhookEvent.objects.filter(pk=event).first()
    )
    if row is None:
        return None
    if row.status == Status.RECEIVED:
        process_key(row.provider, row.ordering_key, until=row)
    return row


def release_deferred(provider: str, waiting_for: Iterable[str]) -> int:
    """Put events waiting for any of ``waiting_for`` (e.g. ``"customer:cus_123"``) back in line.

    For host code that links a local row to the provider outside the library's handlers (the
    library's own handlers release through ``EventResult.release``, in the statement that
    settles their event). The released events are applied by the drain in progress (same
    ordering key) or by the next ``events process``.
    """
    names = [w for w in waiting_for if w]
    if not names:
        return 0
    return WebhookEvent.objects.filter(
        provider=provider, status=Status.DEFERRED, waiting_for__in=names
    ).update(status=Status.RECEIVED, updated_at=timezone.now())


# --- draining, retrying, replaying (the events command, admin actions, tasks) ---------------
@dataclass
class ProcessReport:
    """What a drain did: events settled per final status."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, n: int = 1) -> None:
        self.counts[status] = self.counts.get(status, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        if not self.counts:
            return "no events to process"
        return ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))


def _settle_keys(keys: Iterable[tuple[str, str]], pks: set[int] | None = None) -> ProcessReport:
    report = ProcessReport()
    started = timezone.now()
    for provider, ordering_key in sorted(set(keys)):
        while process_key(provider, ordering_key) >= DRAIN_LIMIT:
            continue
    finished = WebhookEvent.objects.filter(updated_at__gte=started)
    if pks is not None:
        finished = finished.filter(pk__in=pks)
    for status in finished.values_list("status", flat=True):
        report.add(status)
    return report


def process_pending(*, include_deferred: bool = True) -> ProcessReport:
    """Apply every received event (and retry the deferred ones), key by key; for cron."""
    if include_deferred:
        WebhookEvent.objects.filter(status=Status.DEFERRED).update(
            status=Status.RECEIVED, updated_at=timezone.now()
        )
    keys = WebhookEvent.objects.filter(status=Status.RECEIVED).values_list(
        "provider", "ordering_key"
    )
    return _settle_keys(keys.distinct())


def retry_failed(pks: Iterable[int] | None = None) -> ProcessReport:
    """Apply failed events again (all of them, or those with the given pks)."""
    failed = WebhookEvent.objects.filter(status=Status.FAILED)
    if pks is not None:
        failed = failed.filter(pk__in=list(pks))
    chosen = set(failed.values_list("pk", flat=True))
    WebhookEvent.objects.filter(pk__in=chosen).update(
        status=Status.RECEIVED, updated_at=timezone.now()
    )
    keys = WebhookEvent.objects.filter(pk__in=chosen).values_list("provider", "ordering_key")
    return _settle_keys(keys.distinct(), chosen)


def replay_events(pks: Iterable[int]) -> ProcessReport:
    """Apply events again whatever their status (an older state never overwrites a newer one)."""
    chosen = set(pks)
    WebhookEvent.objects.filter(pk__in=chosen).update(
        status=Status.RECEIVED, waiting_for="", updated_at=timezone.now()
    )
    keys = WebhookEvent.objects.filter(pk__in=chosen).values_list("provider", "ordering_key")
    return _settle_keys(keys.distinct(), chosen)


def replay_event(event_id: str, provider: str | None = None) -> WebhookEvent:
    """Apply the event with the provider's id ``event_id`` again; ``DoesNotExist`` if unknown."""
    rows = WebhookEvent.objects.filter(event_id=event_id)
    if provider:
        rows = rows.filter(provider=provider)
    row = rows.get()
    replay_events([row.pk])
    row.refresh_from_db()
    return row
