"""A worker SIGKILLed while it applies webhook events on PostgreSQL loses nothing, and
``payments_sync events process`` then brings the local state to the in-order state."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.core.management import call_command

from django_payments_sync.models import Subscription, WebhookEvent
from django_payments_sync.testing.webhooks import sign_stripe_payload
from django_payments_sync.webhooks import process_webhook_request
from tests.reliability.servers import (
    ROOT,
    backend_alive,
    blocked_backends,
    dsn,
    gunicorn,
    kill,
    server_env,
    wait_until,
)
from tests.webhooks.conftest import SECRET
from tests.webhooks.streams import build_stream, make_world, read_state, shuffled_with_duplicates
from tests.webhooks.test_concurrency import post, reset_database, with_local_ids

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 12
SUBSCRIPTION_TABLE = Subscription._meta.db_table


def test_a_worker_killed_mid_processing_loses_nothing(settings: Any) -> None:
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "AUTO_SYNC": False,
        "MAIL": {"ENABLED": False},
    }
    world = make_world(CUSTOMERS)
    in_order = build_stream(world, CUSTOMERS, updates=3, seed=21)
    for event in in_order:
        process_webhook_request(*sign_stripe_payload(event, SECRET))
    expected = read_state()
    reset_database()
    world = make_world(CUSTOMERS)
    events = with_local_ids(in_order, world.local_ids)

    # The endpoint stores each event and hands it to the task queue (which never runs here).
    with gunicorn(SECRET, workers=2, PAYMENTS_SYNC_TEST_PROCESSING="task") as (_server, url):
        stream = shuffled_with_duplicates(events, seed=3)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda e: post(url, e), stream))
    assert Counter(status for status, _ in answers) == {200: len(stream)}
    assert Counter(WebhookEvent.objects.values_list("status", flat=True)) == {
        "received": len(events)
    }

    # A worker applies them; a lock on the subscriptions table stops it mid-transaction.
    with psycopg.connect(dsn()) as blocker:
        blocker.execute(f"LOCK TABLE {SUBSCRIPTION_TABLE} IN EXCLUSIVE MODE")
        worker = subprocess.Popen(
            [sys.executable, "-m", "django", "payments_sync", "events", "process"],
            cwd=ROOT,
            env=server_env(SECRET),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(
                lambda: blocked_backends(blocker) or worker.poll() is not None,
                60,
                "the worker to block mid-event",
            )
            assert worker.poll() is None, worker.communicate()[1].decode()[-3000:]
            [orphan] = blocked_backends(blocker)
            kill(worker.pid)
            assert worker.wait(timeout=10) == -9
        finally:
            if worker.poll() is None:
                kill(worker.pid)
                worker.wait(timeout=10)
        blocker.rollback()
        # The server notices its client is gone and rolls the open transaction back.
        wait_until(
            lambda: not backend_alive(blocker, orphan),
            30,
            "the killed worker's backend to end",
        )
        blocker.commit()

    statuses = Counter(WebhookEvent.objects.values_list("status", flat=True))
    # Applied before the kill, or still waiting: none failed, none lost, none half-applied.
    assert set(statuses) <= {"processed", "ignored", "deferred", "received"}, statuses
    assert statuses["processed"] >= 1
    assert statuses["received"] >= 1
    assert sum(statuses.values()) == len(events)
    assert not WebhookEvent.objects.filter(status="received", attempts__gt=0).exists()

    call_command("payments_sync", "events", "process")

    assert read_state() == expected
