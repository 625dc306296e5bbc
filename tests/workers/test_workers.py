"""Background processing on real workers: the endpoint stores and enqueues, separate worker
processes apply, as a deployment runs them.

- ``db_worker``: Django's tasks framework with the ``django-tasks-db`` backend on PostgreSQL,
  two ``manage.py db_worker`` processes;
- ``celery``: Celery on RabbitMQ (``PAYMENTS_SYNC_TEST_RABBITMQ``), two ``celery worker``
  processes running ``django_payments_sync.contrib.celery``.

A storm (every event twice, shuffled, eight connections) goes to gunicorn in task mode; once
the workers are idle, each event is stored once, applied once, nothing failed or waits, and the
local state equals in-order delivery's (per customer order held under the workers' locks).
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from django_payments_sync.models import WebhookEvent
from django_payments_sync.testing.webhooks import sign_stripe_payload
from django_payments_sync.webhooks import process_webhook_request
from tests.reliability.servers import wait_until
from tests.servers import ROOT, database_environment, gunicorn
from tests.webhooks.conftest import SECRET
from tests.webhooks.streams import build_stream, make_world, read_state, shuffled_with_duplicates
from tests.webhooks.test_concurrency import post, reset_database, with_local_ids

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 12
WORKERS = 2
SETTINGS = "tests.workers.settings"


def worker_command(runner: str) -> list[str]:
    if runner == "db_worker":
        return [sys.executable, "-m", "django", "db_worker", "--interval", "0.1", "--no-reload"]
    celery = str(Path(sys.executable).with_name("celery"))
    return [celery, "-A", "tests.workers.celery_app", "worker", "--pool=solo", "-l", "WARNING"]


@contextmanager
def workers(runner: str, count: int, env: dict[str, str]) -> Iterator[list[subprocess.Popen]]:
    """``count`` worker processes, stopped (SIGTERM, then SIGKILL) when the block ends."""
    procs: list[subprocess.Popen] = []
    try:
        for i in range(count):
            procs.append(
                subprocess.Popen(
                    [*worker_command(runner), *(["-n", f"w{i}@%h"] if runner == "celery" else [])],
                    cwd=ROOT,
                    env=env,
                )
            )
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def runner_env(runner: str) -> dict[str, str]:
    env = {
        **os.environ,
        **database_environment(),
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PAYMENTS_SYNC_TEST_RUNNER": runner,
    }
    if runner == "celery":
        env["PAYMENTS_SYNC_TEST_CELERY_QUEUE"] = f"payments-sync-tests-{uuid.uuid4().hex[:12]}"
    return env


def settled() -> bool:
    return not WebhookEvent.objects.filter(status="received").exists()


@pytest.fixture
def broker() -> str:
    url = os.environ.get("PAYMENTS_SYNC_TEST_RABBITMQ")
    if not url:
        pytest.skip("needs RabbitMQ: set PAYMENTS_SYNC_TEST_RABBITMQ (CI sets it)")
    import kombu

    # Set but unreachable: a failure, never a skip.
    with kombu.Connection(url, connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=1)
    return url


@pytest.fixture(params=["db_worker", "celery"])
def runner(request: pytest.FixtureRequest) -> str:
    if request.param == "celery":
        request.getfixturevalue("broker")
    return str(request.param)


def test_a_storm_through_real_workers_is_applied_once_in_order(runner: str, settings: Any) -> None:
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "AUTO_SYNC": False,
        "MAIL": {"ENABLED": False},
    }
    world = make_world(CUSTOMERS)
    in_order = build_stream(world, CUSTOMERS, updates=3, seed=8)
    for event in in_order:
        process_webhook_request(*sign_stripe_payload(event, SECRET))
    expected = read_state()
    reset_database()
    world = make_world(CUSTOMERS)
    events = with_local_ids(in_order, world.local_ids)
    stream = shuffled_with_duplicates(events, seed=13)

    env = runner_env(runner)
    with ExitStack() as stack:
        _server, url = stack.enter_context(
            gunicorn(
                workers=2,
                settings_module=SETTINGS,
                env={k: env[k] for k in env if k.startswith("PAYMENTS_SYNC_TEST")},
            )
        )
        stack.enter_context(workers(runner, WORKERS, env))
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda e: post(url, e), stream))
        assert Counter(status for status, _ in answers) == {200: len(stream)}
        # Answered before applying: every first delivery was queued.
        assert {body["status"] for _, body in answers if not body["duplicate"]} == {"queued"}
        wait_until(settled, 120, f"the {runner} workers to apply every event")

    firsts = Counter(body["id"] for _, body in answers if not body["duplicate"])
    assert firsts == Counter(e["id"] for e in events)
    rows = list(WebhookEvent.objects.values("ordering_key", "type", "status", "attempts"))
    assert len(rows) == len(events)
    assert {r["status"] for r in rows} == {"processed"}
    # Applied once: events that can never wait took one attempt, the others one per wait.
    linked = {f"customer:{cus}" for cus in world.local_ids if int(cus[4:]) % 3 == 0}
    never_wait = [
        r for r in rows if r["ordering_key"] in linked and not r["type"].startswith("invoice.")
    ]
    assert len(never_wait) > CUSTOMERS
    assert {r["attempts"] for r in never_wait} == {1}
    assert max(r["attempts"] for r in rows) <= 3
    state = read_state()
    for part in ("users", "customers", "subscriptions"):
        assert state[part] == expected[part], part
