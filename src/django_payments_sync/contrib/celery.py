"""The background entry points as Celery tasks, for hosts that run Celery workers.

``pip install django-payments-sync[celery]``. Each task of :mod:`django_payments_sync.tasks`
is a Celery task here, under the name ``django_payments_sync.<name>``, with the same
arguments (ids, never instances). With ``PAYMENTS_SYNC["WEBHOOK_PROCESSING"] = "celery"`` the
webhook endpoint stores each event and, after the commit, sends
``django_payments_sync.process_webhook_event`` to the host's Celery app (by name: the web
process does not import this module). Workers import it, so they know the tasks: add it to the
Celery app's ``imports`` (see the deployment guide).

The tasks acknowledge their message after they ran (``acks_late``): a worker killed while it
applies an event leaves the message to another worker, and the event, rolled back, is applied
then (applying is idempotent: an applied event is never applied twice).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from django_payments_sync import tasks as entry_points

#: The Celery name of the task the endpoint sends in ``"celery"`` mode.
PROCESS_WEBHOOK_EVENT = "django_payments_sync.process_webhook_event"

_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


def _run(entry_point: Any, *args: Any, **kwargs: Any) -> Any:
    # A tasks-framework task runs its function in this process with .call(); a plain function
    # (no tasks framework installed) is called as it is.
    call = getattr(entry_point, "call", entry_point)
    return call(*args, **kwargs)


@shared_task(name=PROCESS_WEBHOOK_EVENT, **_OPTIONS)
def process_webhook_event(event_pk: int) -> str:
    """Apply one stored webhook event (after the older ones of its ordering key)."""
    return str(_run(entry_points.process_webhook_event, event_pk))


@shared_task(name="django_payments_sync.process_pending_webhook_events", **_OPTIONS)
def process_pending_webhook_events() -> dict[str, int]:
    """What ``payments_sync events process`` does: every received and deferred event."""
    return dict(_run(entry_points.process_pending_webhook_events))


@shared_task(name="django_payments_sync.push_pending_changes", **_OPTIONS)
def push_pending_changes() -> dict[str, int]:
    """What ``payments_sync push`` does."""
    return dict(_run(entry_points.push_pending_changes))


@shared_task(name="django_payments_sync.recheck_vat_numbers", **_OPTIONS)
def recheck_vat_numbers(limit: int | None = None) -> dict[str, int]:
    """What ``payments_sync vat recheck`` does."""
    return dict(_run(entry_points.recheck_vat_numbers, limit))


@shared_task(name="django_payments_sync.reconcile_with_provider", **_OPTIONS)
def reconcile_with_provider(adopt: bool = False) -> dict[str, int]:
    """What ``payments_sync reconcile`` does."""
    return dict(_run(entry_points.reconcile_with_provider, adopt))


@shared_task(name="django_payments_sync.prune_webhook_events", **_OPTIONS)
def prune_webhook_events(older_than_days: int = 90) -> dict[str, int]:
    """What ``payments_sync events prune --older-than <days>d`` does."""
    return dict(_run(entry_points.prune_webhook_events, older_than_days))
