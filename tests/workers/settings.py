"""Settings of the worker tests' processes (gunicorn and the workers): the webhook test servers'
settings, with the task runner from the environment.

``PAYMENTS_SYNC_TEST_RUNNER``: ``db_worker`` (Django's tasks framework, the ``django-tasks-db``
database backend: the endpoint enqueues rows, ``manage.py db_worker`` processes run them) or
``celery`` (the endpoint sends Celery messages to RabbitMQ, ``celery worker`` processes run
``django_payments_sync.contrib.celery``'s tasks; the app is ``tests.workers.celery_app``).
"""

from __future__ import annotations

import os

from tests.webhooks.server_settings import *  # noqa: F403
from tests.webhooks.server_settings import PAYMENTS_SYNC as _BASE

RUNNER = os.environ.get("PAYMENTS_SYNC_TEST_RUNNER", "db_worker")

PAYMENTS_SYNC = {
    **_BASE,
    "WEBHOOK_PROCESSING": "celery" if RUNNER == "celery" else "task",
}
if RUNNER == "db_worker":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
if RUNNER == "celery":
    # As a host project's proj/__init__.py does: the Celery app is loaded with the settings.
    from tests.workers.celery_app import app as celery_app  # noqa: F401
