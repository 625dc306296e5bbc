"""The worker tests' Celery app, as a host project defines one (Celery's Django guide).

The broker is ``PAYMENTS_SYNC_TEST_RABBITMQ``; each test run has a queue of its own
(``PAYMENTS_SYNC_TEST_CELERY_QUEUE``), so runs on one broker never take each other's messages.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.workers.settings")

app = Celery("tests")
app.conf.update(
    broker_url=os.environ.get("PAYMENTS_SYNC_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//"),
    task_default_queue=os.environ.get("PAYMENTS_SYNC_TEST_CELERY_QUEUE", "payments-sync-tests"),
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # What the worker imports: the library's tasks.
    imports=("django_payments_sync.contrib.celery",),
)
