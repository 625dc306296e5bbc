"""The handlers' registry by event kind, the dispatch, and the ordering guards they share.

Handlers never call the provider: they read the event's neutral object (or, with
``WEBHOOK_REFETCH``, the one the processing re-fetched). They look up everything they need
before their first write, so a :class:`Deferred` leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import (
    EventKind,
    ProviderEvent,
)
from django_payments_sync.models import (
    WebhookEvent,
)

_T = TypeVar("_T")
_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")


class Deferred(Exception):
    """The event refers to something not known locally yet; ``waiting_for`` names it."""

    def __init__(self, waiting_for: str, message: str = "") -> None:
        super().__init__(message or f"Waiting for {waiting_for}.")
        self.waiting_for = waiting_for


class UnreadableEvent(TypeError):
    """The event's object is not what its type announces: there is nothing to apply."""


@dataclass
class EventResult:
    """How an event was applied: ``ignored`` when it changed nothing by design."""

    ignored: bool = False
    note: str = ""
    #: What the event made known (e.g. ``"customer:cus_123"``): events waiting for it are
    #: put back in line, in the same statement that records this event's outcome.
    release: tuple[str, ...] = ()


Handler = Callable[[ProviderEvent], EventResult]
HANDLERS: dict[EventKind, Handler] = {}


def handles(*kinds: EventKind) -> Callable[[Handler], Handler]:
    """Register a handler for kinds of events (the library's vocabulary, never a provider's)."""

    def register(func: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[EventKind(kind)] = func
        return func

    return register


def apply_event(event: ProviderEvent) -> EventResult:
    """Apply one verified event to local state; raises :class:`Deferred` to wait."""
    # The handlers register themselves on import.
    from django_payments_sync.webhooks.handlers import (  # noqa: F401
        catalog,
        charges,
        customers,
        entitlements,
        invoices,
        payments,
        refunds,
        subscriptions,
    )

    handler = HANDLERS.get(event.kind)
    if handler is None:
        return EventResult(ignored=True, note=f"No handler for {event.type} events.")
    try:
        return handler(event)
    except UnreadableEvent as exc:
        # Retrying cannot help: kept in the log as ignored, with the reason.
        return EventResult(ignored=True, note=str(exc))


# --- reading event objects ----------------------------------------------------------------
def read_object(event: ProviderEvent, cls: type[_T]) -> _T:
    """The event's object as the neutral type ``cls`` (its backend parsed it into ``data``)."""
    value = event.data
    if not isinstance(value, cls):
        raise UnreadableEvent(
            f"{event.type} carries a {event.object_type!r}, not a {cls.__name__}."
        )
    return value


# --- ordering guards ----------------------------------------------------------------------
def unique_row(rows: QuerySet[_M, _R]) -> _R | None:
    """The one row of a lookup on a unique key, or None.

    ``rows[:1]`` rather than ``.first()``: ``first()`` orders by the primary key, and compiling
    that ORDER BY (for a lookup that finds one row at most) was about a tenth of an event's
    Python time on the webhook path.
    """
    return next(iter(rows[:1]), None)


def is_newer(event: ProviderEvent, link: Any, *, last_rank_below: int | None = None) -> bool:
    """Whether ``event`` comes after the last event applied to ``link`` (an External row).

    Provider times have one-second resolution. On a tie the kind's rank decides (a
    subscription's update after its creation); between two events of the same rank, the
    backend tells which one follows the other (Stripe: the later event's previous values are
    the earlier one's values); failing that, the event id, so every process agrees on one
    order. Applying the same event again is allowed (a replay).

    ``last_rank_below``: what the caller knows from the local row, that the last event
    applied ranks below this; an event of that rank or more then wins a tie without the
    stored last event being read (a subscription's deletion in the second of its update).
    """
    last_at = link.last_event_at
    if last_at is None:
        return True
    if event.created != last_at:
        return event.created > last_at
    last_id = getattr(link, "last_event_id", "")
    if not last_id or last_id == event.id:
        return True
    if last_rank_below is not None and event.rank >= last_rank_below:
        return True
    stored = unique_row(
        WebhookEvent.objects.filter(provider=event.provider, event_id=last_id).values_list(
            "payload", flat=True
        )
    )
    if stored is None:
        return event.id > last_id
    backend = get_backend()
    last = backend.parse_event(stored)
    if event.rank != last.rank:
        return event.rank > last.rank
    follows = backend.event_follows(event, last)
    if follows is not None:
        return follows
    return event.id > last_id


def stamp(link: Any, event: ProviderEvent) -> list[str]:
    """Remember ``event`` as the last one applied to ``link``; returns the fields to save."""
    link.last_event_at = event.created
    fields = ["last_event_at", "updated_at"]
    if hasattr(link, "last_event_id"):
        link.last_event_id = event.id
        fields.append("last_event_id")
    return fields
