"""Retention of the webhook log (``events prune``) and the indexes the hot lookups use."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from django_payments_sync import tasks
from django_payments_sync.models import ExternalCustomer, WebhookEvent
from django_payments_sync.webhooks import retention
from django_payments_sync.webhooks.tasks import TASKS_FRAMEWORK
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - dt.timedelta(days=100)


def event(name: str, status: str, processed_at: dt.datetime | None = OLD, **kw: Any) -> None:
    WebhookEvent.objects.create(
        provider="stripe",
        event_id=name,
        type="customer.updated",
        provider_created_at=processed_at or OLD,
        ordering_key=kw.pop("ordering_key", "customer:cus_A"),
        payload={"id": name},
        status=status,
        processed_at=processed_at if status in ("processed", "ignored") else None,
        **kw,
    )


@pytest.fixture
def log() -> None:
    for i in range(5):
        event(f"evt_old_{i}", "processed")
    event("evt_old_ignored", "ignored")
    event("evt_recent", "processed", processed_at=NOW - dt.timedelta(days=2))
    event("evt_received", "received", processed_at=None)
    event("evt_failed", "failed", processed_at=None, last_error="boom")
    event("evt_deferred", "deferred", processed_at=None, waiting_for="customer:cus_B")
    event("evt_last_of_link", "processed")
    ExternalCustomer.objects.create(
        provider="stripe",
        external_id="cus_A",
        customer=CustomerFactory(),
        last_event_id="evt_last_of_link",
        last_event_at=OLD,
    )


KEPT = {"evt_recent", "evt_received", "evt_failed", "evt_deferred", "evt_last_of_link"}


def stored() -> set[str]:
    return set(WebhookEvent.objects.values_list("event_id", flat=True))


def test_prune_deletes_old_settled_events_in_batches_and_keeps_what_is_needed(log: None) -> None:
    out = StringIO()
    args = ["events", "prune", "--older-than", "30d", "--batch-size", "2"]
    call_command("payments_sync", *args, stdout=out)
    assert stored() == KEPT
    assert "Deleted 6 settled webhook event(s)" in out.getvalue()
    assert "(3 batch(es))" in out.getvalue()
    # Nothing more to delete: a second run is a no-op.
    report = retention.prune_events(dt.timedelta(days=30))
    assert (report.deleted, report.batches) == (0, 0)


def test_prune_dry_run_counts_and_deletes_nothing(log: None) -> None:
    out = StringIO()
    call_command("payments_sync", "events", "prune", "--older-than", "30", "--dry-run", stdout=out)
    assert "Would delete 6" in out.getvalue()
    assert len(stored()) == 11


def test_prune_keeps_events_younger_than_the_age(log: None) -> None:
    assert retention.prune_events(dt.timedelta(days=101)).deleted == 0
    # Every settled event but the link's last one.
    assert retention.prune_events(dt.timedelta(hours=1)).deleted == 7


@pytest.mark.parametrize("age", ["", "0d", "-3", "ten days", "3w", "1.5d"])
def test_prune_refuses_a_bad_age_and_deletes_nothing(log: None, age: str) -> None:
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("payments_sync", "events", "prune", f"--older-than={age}", stderr=err)
    assert exit_info.value.code == 2
    assert "is not an age" in err.getvalue()
    assert len(stored()) == 11


def test_prune_refuses_a_bad_batch_size(log: None) -> None:
    with pytest.raises(ValueError, match="batch size"):
        retention.prune_events(dt.timedelta(days=1), batch_size=0)
    assert len(stored()) == 11


def test_prune_task(log: None, settings: Any) -> None:
    if TASKS_FRAMEWORK is None:
        pytest.skip("no tasks framework installed")
    settings.TASKS = {
        "default": {"BACKEND": f"{TASKS_FRAMEWORK}.backends.immediate.ImmediateBackend"}
    }
    result = tasks.prune_webhook_events.enqueue(30)
    assert result.return_value == {"deleted": 6, "batches": 1}
    assert stored() == KEPT
    with pytest.raises(ValueError, match="must be positive"):
        tasks.prune_webhook_events.call(0)


# --- the indexes (PostgreSQL's planner, on a log of many settled events) -------------------
@pytest.fixture
def big_log() -> None:
    rows = [
        WebhookEvent(
            provider="stripe",
            event_id=f"evt_{i}",
            type="customer.subscription.updated",
            provider_created_at=OLD,
            ordering_key=f"customer:cus_{i % 500}",
            payload={},
            status="processed",
            processed_at=OLD + dt.timedelta(seconds=i),
        )
        for i in range(30_000)
    ]
    WebhookEvent.objects.bulk_create(rows, batch_size=5000)
    event("evt_pending", "received", processed_at=None, ordering_key="customer:cus_7")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {WebhookEvent._meta.db_table}")


def plan(queryset: Any) -> str:
    return queryset.explain()


@pytest.mark.postgres
def test_the_hot_lookups_use_indexes_on_a_big_log(big_log: None) -> None:
    from django_payments_sync.backends.types import ProviderEvent
    from django_payments_sync.webhooks import ingest

    table = WebhookEvent._meta.db_table
    pending = WebhookEvent.objects.filter(
        provider="stripe", ordering_key="customer:cus_7", status="received"
    ).order_by("provider_created_at")[:2]
    incoming = ProviderEvent(
        provider="stripe",
        id="evt_new",
        type="customer.updated",
        created=NOW,
        livemode=False,
        object_type="customer",
        object_id="cus_7",
        object={},
    )
    lookups = {
        "ingest": ingest.stored_or_pending_query(incoming, "customer:cus_7"),
        "next pending": pending,
        "prune": retention.prunable(NOW - dt.timedelta(days=30)).order_by("pk")[:1000],
        "duplicate": WebhookEvent.objects.filter(provider="stripe", event_id="evt_123"),
    }
    for name, queryset in lookups.items():
        text = plan(queryset)
        assert f"Seq Scan on {table}" not in text, (name, text)
        assert "Index" in text, (name, text)
