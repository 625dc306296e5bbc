"""Celery on RabbitMQ draining the task-mode backlog: the sibling of ``workers_bench.drain``.

Each worker count gets a fresh copy of the backlog's database and a queue of its own on the
broker; one message per received event is sent, oldest first, by the library's own
``enqueue_webhook_event`` (what the endpoint calls after each commit in ``"celery"`` mode), then
``count`` ``celery worker --pool=solo`` processes (one task at a time each, as
``tests/workers`` starts them) apply them. Timed until no event is left received and no message
is ready in the queue; after the workers stop (warm shutdown: a running task finishes), a message
still in the queue is one never applied.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from . import pg
from .procs import WORK, Emulator, Managed, last_json, run
from .workers_bench import EVENTS, _env, _rows, _scalar, peak_rss_mb, state_digest

BROKER = "amqp://guest:guest@127.0.0.1:5672//"
#: Further options of the workers (BENCH_CELERY_WORKER_ARGS, split on spaces); none by default:
#: Celery's defaults, as tests/workers starts them. (With ``--without-gossip --without-mingle
#: --without-heartbeat`` the workers sat idle between tasks here: 4 events/s where the defaults
#: drain 17, on an idle CPU.)
WORKER_ARGS = os.environ.get("BENCH_CELERY_WORKER_ARGS", "").split()
APP = "benchmarks.harness.ours.celery_app"
#: How Celery logs a task that raised (``Task <name>[<id>] raised unexpected: ...``).
FAILED = re.compile(r"Task \S+\[[0-9a-f-]+\] raised unexpected")


def broker_ready(broker: str) -> str | None:
    """None when the broker answers, else why not (the section is skipped with that reason)."""
    try:
        import kombu

        with kombu.Connection(broker, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _ready_messages(broker: str, queue: str) -> int:
    import kombu

    with kombu.Connection(broker, connect_timeout=5) as conn:
        _name, count, _consumers = conn.default_channel.queue_declare(queue, passive=True)
    return int(count)


def _delete_queue(broker: str, queue: str) -> None:
    import kombu

    with kombu.Connection(broker, connect_timeout=5) as conn:
        conn.default_channel.queue_delete(queue)


def drain(
    python: Path,
    emulator: Emulator,
    backlog: str,
    database: str,
    workers: int,
    *,
    time_limit: float,
    broker: str = BROKER,
) -> dict[str, Any]:
    """Apply the backlog with ``workers`` Celery worker processes; events/s and peak RSS."""
    url = pg.create_database(database, template=backlog)
    queue = f"{pg.PREFIX}drain-{workers}-{uuid.uuid4().hex[:10]}"
    env = _env(
        url,
        emulator,
        BENCH_PROCESSING="celery",
        BENCH_CELERY_BROKER=broker,
        BENCH_CELERY_QUEUE=queue,
    )
    pending = f"SELECT count(*) FROM {EVENTS} WHERE status = 'received'"
    total = _scalar(url, pending)
    celery = str(Path(python).with_name("celery"))
    try:
        sent = last_json(run([str(python), "-m", "benchmarks.harness.ours.celery_enqueue"], env))
        command = [celery, "-A", APP, "worker", "--pool=solo", "-l", "WARNING"]
        command += WORKER_ARGS
        logs = [WORK / "logs" / f"celery-{workers}-{i}.log" for i in range(workers)]
        procs = [Managed([*command, "-n", f"bench{i}@%h"], env, log) for i, log in enumerate(logs)]
        started = time.perf_counter()
        timed_out = False
        rss: list[float | None] = []
        try:
            while _scalar(url, pending) or _ready_messages(broker, queue):
                if time.perf_counter() - started > time_limit:
                    timed_out = True
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            rss = [peak_rss_mb(p.process.pid) for p in procs]
        finally:
            for proc in procs:
                proc.terminate()  # all at once: each finishes its task, then exits
            for proc in procs:
                proc.stop()
        left_in_queue = _ready_messages(broker, queue)
        failed = sum(len(FAILED.findall(log.read_text(errors="replace"))) for log in logs)
        statuses = dict(
            _rows(url, f"SELECT status, count(*) FROM {EVENTS} GROUP BY 1 ORDER BY 2 DESC")
        )
        digest = state_digest(url)
        stranded = _rows(
            url,
            f"SELECT type, waiting_for, attempts, count(*) FROM {EVENTS} "
            "WHERE status = 'received' GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 5",
        )
    finally:
        _delete_queue(broker, queue)
        pg.drop_database(database)
    return {
        "runner": "celery",
        "workers": workers,
        "events": total,
        "enqueued": sent["enqueued"],
        "enqueue_seconds": sent["seconds"],
        "seconds": seconds,
        "per_s": total / seconds if seconds else float("nan"),
        "timed_out": timed_out,
        "statuses": statuses,
        "failed_tasks": failed,
        "left_in_queue": left_in_queue,
        "state": digest,
        # What was left received, if anything (type, waiting for, attempts, count).
        "left_received": stranded,
        "peak_rss_mb": [round(x, 1) for x in rss if x is not None],
    }
