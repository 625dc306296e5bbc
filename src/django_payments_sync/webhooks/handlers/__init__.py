"""The inbound side's handlers: what each kind of provider event does to local state.

One module per entity (:mod:`.customers`, :mod:`.catalog`, :mod:`.subscriptions`,
:mod:`.payments`), registered by :class:`~django_payments_sync.backends.types.EventKind` in
:mod:`.registry`, which dispatches (``apply_event``) and holds the ordering guards. Register a
handler of your own with ``@handles(EventKind...)`` (it replaces the library's for that kind).
"""

from django_payments_sync.webhooks.handlers.registry import (
    Deferred,
    EventResult,
    UnreadableEvent,
    apply_event,
    handles,
    is_newer,
    read_object,
    stamp,
)

__all__ = [
    "Deferred",
    "EventResult",
    "UnreadableEvent",
    "apply_event",
    "handles",
    "is_newer",
    "read_object",
    "stamp",
]
