"""The benchmark site's Celery app, as a host project defines one (Celery's Django guide).

The broker is ``BENCH_CELERY_BROKER`` (the machine's RabbitMQ by default); each drain has a
queue of its own (``BENCH_CELERY_QUEUE``), so runs on one broker never take each other's
messages. Loaded by the settings when ``BENCH_PROCESSING`` is ``"celery"``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.harness.ours.settings")

BROKER = os.environ.get("BENCH_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//")

app = Celery("bench")
app.conf.update(
    broker_url=BROKER,
    task_default_queue=os.environ.get("BENCH_CELERY_QUEUE", "payments-sync-bench"),
    task_ignore_result=True,
    # Celery's default prefetch (4 messages per process): with 1, each short task waited for
    # its successor's delivery, and one solo worker drained 12 events/s against 46 (2026-12-04).
    broker_connection_retry_on_startup=True,
    # What the worker imports: the library's tasks (docs/deployment.md).
    imports=("django_payments_sync.contrib.celery",),
)
