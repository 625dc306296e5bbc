"""Retention of the webhook log: settled events older than a cutoff are deleted in batches.

Only events that are settled for good (``processed`` or ``ignored``) and were settled before the
cutoff go. Kept whatever their age: events still to apply or to look at (``received``,
``deferred``, ``failed``), and the last event applied to each provider link (its
``last_event_id``), which the ordering guard reads to order a later event of the same second.
Each batch is its own short transaction that deletes rows by primary key, so live traffic is
never blocked for long; the cutoff is fixed when the run starts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from django_payments_sync.models import WebhookEvent, WebhookEventStatus
from django_payments_sync.models.base import ExternalPaymentProvider

Status = WebhookEventStatus

#: Rows deleted per transaction.
DEFAULT_BATCH_SIZE = 1000

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm]?)\s*$")
_UNITS = {"d": "days", "": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> dt.timedelta:
    """``"90d"``, ``"90"`` (days), ``"12h"`` or ``"30m"`` as a positive ``timedelta``."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not an age: give a positive number of days (90d or 90), hours (12h) "
            "or minutes (30m)."
        )
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def prunable(cutoff: dt.datetime) -> QuerySet[WebhookEvent]:
    """The events :func:`prune_events` deletes for ``cutoff`` (settled before it, unreferenced)."""
    rows = WebhookEvent.objects.filter(
        status__in=(Status.PROCESSED, Status.IGNORED), processed_at__lt=cutoff
    )
    for model in apps.get_models():
        if issubclass(model, ExternalPaymentProvider):
            referenced = model._default_manager.filter(
                provider=OuterRef("provider"), last_event_id=OuterRef("event_id")
            )
            rows = rows.filter(~Q(Exists(referenced)))
    return rows


@dataclass
class PruneReport:
    deleted: int = 0
    batches: int = 0
    cutoff: dt.datetime | None = None


def prune_events(
    older_than: dt.timedelta, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False
) -> PruneReport:
    """Delete settled events older than ``older_than``, ``batch_size`` rows per transaction."""
    if batch_size <= 0:
        raise ValueError(f"The batch size must be positive, not {batch_size}.")
    cutoff = timezone.now() - older_than
    report = PruneReport(cutoff=cutoff)
    candidates = prunable(cutoff).order_by("pk").values_list("pk", flat=True)
    if dry_run:
        report.deleted = candidates.count()
        return report
    last_pk = 0
    while True:
        with transaction.atomic():
            pks = list(candidates.filter(pk__gt=last_pk)[:batch_size])
            if not pks:
                break
            # The conditions again: an event replayed since the batch was read stays.
            report.deleted += prunable(cutoff).filter(pk__in=pks).delete()[0]
        report.batches += 1
        last_pk = pks[-1]
    return report
