"""Every background entry point, on Django's tasks framework: they take ids, never instances.

Enqueue them from host code or a scheduler (``recheck_vat_numbers.enqueue()``) with any task
backend the host runs. Without a tasks framework installed they stay plain functions.
"""

from __future__ import annotations

from django_payments_sync.interactor.usage import send_usage_events
from django_payments_sync.webhooks.tasks import (
    _as_task,
    enqueue_webhook_event,
    process_pending_webhook_events,
    process_webhook_event,
)


@_as_task
def recheck_vat_numbers(limit: int | None = None) -> dict[str, int]:
    """Ask VIES again about the VAT numbers it could not check (``payments_sync vat recheck``)."""
    from django_payments_sync.interactor.billing import recheck_pending_vat

    return recheck_pending_vat(limit=limit).counts


@_as_task
def push_pending_changes() -> dict[str, int]:
    """Push what the provider lacks or has stale (``payments_sync push``): retries pending rows."""
    from django_payments_sync.sync.push import push_all

    return push_all().counts()


@_as_task
def reconcile_with_provider(adopt: bool = False) -> dict[str, int]:
    """Repair drift by the ownership rules (``payments_sync reconcile``), for a scheduler.

    Resumes an interrupted run from its checkpoint; refuses another account than the bound one.
    """
    from collections import Counter

    from django_payments_sync.interactor.reconcile import reconcile
    from django_payments_sync.sync.accounts import check_account

    check_account()
    report = reconcile(adopt=adopt)
    return {**Counter(r.action for r in report.repairs), "calls": report.calls}


@_as_task
def prune_webhook_events(older_than_days: int = 90) -> dict[str, int]:
    """Delete settled webhook events older than ``older_than_days`` (``events prune``)."""
    import datetime as dt

    from django_payments_sync.webhooks.retention import prune_events

    if int(older_than_days) <= 0:
        raise ValueError(f"older_than_days must be positive, not {older_than_days!r}.")
    report = prune_events(dt.timedelta(days=int(older_than_days)))
    return {"deleted": report.deleted, "batches": report.batches}


__all__ = [
    "enqueue_webhook_event",
    "process_pending_webhook_events",
    "process_webhook_event",
    "prune_webhook_events",
    "push_pending_changes",
    "recheck_vat_numbers",
    "reconcile_with_provider",
    "send_usage_events",
]
