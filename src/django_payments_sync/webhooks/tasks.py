"""Background entry points for webhook processing, on Django's tasks framework (or its backport)."""

from __future__ import annotations

import importlib
from typing import Any

task: Any = None
for _module in ("django.tasks", "django_tasks"):  # Django 6.0+, then the backport on 5.2
    try:
        task = importlib.import_module(_module).task
        break
    except ImportError:
        continue


def _process_webhook_event(event_pk: int) -> str:
    """Apply one stored webhook event (after the older ones of its ordering key); its status."""
    from django_payments_sync.webhooks.processing import process_event

    row = process_event(event_pk)
    return row.status if row is not None else "missing"


def _process_pending_webhook_events() -> dict[str, int]:
    """Drain every received and deferred event (what ``payments_sync events process`` does)."""
    from django_payments_sync.webhooks.processing import process_pending

    return process_pending().counts


process_webhook_event: Any
process_pending_webhook_events: Any
if task is not None:
    process_webhook_event = task()(_process_webhook_event)
    process_pending_webhook_events = task()(_process_pending_webhook_events)
else:
    process_webhook_event = None
    process_pending_webhook_events = None


def enqueue_webhook_event(event_pk: int) -> None:
    """Hand one stored event to the task backend (needs ``django.tasks`` or ``django-tasks``)."""
    if process_webhook_event is None:
        from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured

        raise PaymentsSyncImproperlyConfigured(
            "PAYMENTS_SYNC['WEBHOOK_PROCESSING'] = 'task' needs Django's tasks framework: "
            "Django 6.0+, or `pip install django-payments-sync[tasks]` on Django 5.2."
        )
    process_webhook_event.enqueue(event_pk)
