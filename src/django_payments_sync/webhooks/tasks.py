"""Background entry points for webhook processing, on Django's tasks framework (or its backport).

They take ids, never model instances, so any task backend (a database worker, RQ, Celery
through an adapter) can run them: ``process_webhook_event(event_pk)`` and
``process_pending_webhook_events()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: The tasks framework in use: ``"django.tasks"`` (Django 6.0+), ``"django_tasks"`` (the
#: backport, on 5.2), or None. Hosts configure ``settings.TASKS`` with that framework's backends.
TASKS_FRAMEWORK: str | None = None
_task_decorator: Any = None
for _module in ("django.tasks", "django_tasks"):
    try:
        _task_decorator = importlib.import_module(_module).task
        TASKS_FRAMEWORK = _module
        break
    except ImportError:
        continue


def _as_task(func: Callable[..., Any]) -> Any:
    # Without a tasks framework the functions stay plain; only "sync" processing works then.
    return _task_decorator()(func) if _task_decorator is not None else func


@_as_task
def process_webhook_event(event_pk: int) -> str:
    """Apply one stored webhook event (after the older ones of its ordering key); its status."""
    from django_payments_sync.webhooks.processing import process_event

    row = process_event(event_pk)
    return row.status if row is not None else "missing"


@_as_task
def process_pending_webhook_events() -> dict[str, int]:
    """Drain every received and deferred event (what ``payments_sync events process`` does)."""
    from django_payments_sync.webhooks.processing import process_pending

    return process_pending().counts


#: The Celery task ``"celery"`` mode sends (registered by ``django_payments_sync.contrib.celery``).
CELERY_TASK_NAME = "django_payments_sync.process_webhook_event"


def enqueue_webhook_event(event_pk: int) -> None:
    """Hand one stored event to the background workers ``WEBHOOK_PROCESSING`` names.

    ``"task"``: Django's tasks framework (``django.tasks`` or the ``django-tasks`` backport);
    ``"celery"``: the host's Celery app, by task name (``contrib.celery`` defines it).
    """
    from django_payments_sync.conf import payments_settings
    from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured

    if payments_settings.WEBHOOK_PROCESSING == "celery":
        try:
            from celery import current_app
        except ImportError as exc:
            raise PaymentsSyncImproperlyConfigured(
                "PAYMENTS_SYNC['WEBHOOK_PROCESSING'] = 'celery' needs Celery: "
                "`pip install django-payments-sync[celery]`."
            ) from exc
        current_app.send_task(CELERY_TASK_NAME, args=[event_pk])
        return
    if not hasattr(process_webhook_event, "enqueue"):
        raise PaymentsSyncImproperlyConfigured(
            "PAYMENTS_SYNC['WEBHOOK_PROCESSING'] = 'task' needs Django's tasks framework: "
            "Django 6.0+, or `pip install django-payments-sync[tasks]` on Django 5.2."
        )
    process_webhook_event.enqueue(event_pk)
