"""Settings of the reliability tests' gunicorn servers: the webhook test servers', plus the
provider address, the webhook secret and a PostgreSQL lock timeout from the environment."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from tests.webhooks.server_settings import *  # noqa: F403
from tests.webhooks.server_settings import DATABASES
from tests.webhooks.server_settings import PAYMENTS_SYNC as _BASE

_base: Any = _BASE
PAYMENTS_SYNC = {
    **_base,
    "OPTIONS": {
        **_base["OPTIONS"],
        "api_base": os.environ.get("PAYMENTS_SYNC_TEST_API_BASE", "http://127.0.0.1:9"),
        "webhook_secret": os.environ["PAYMENTS_SYNC_TEST_WEBHOOK_SECRET"],
    },
}
if os.environ.get("PAYMENTS_SYNC_TEST_LOCK_TIMEOUT_MS"):
    # A server-side limit on waiting for a lock: a blocked table answers an error, not a hang.
    timeout = int(os.environ["PAYMENTS_SYNC_TEST_LOCK_TIMEOUT_MS"])
    DATABASES["default"] = {
        **DATABASES["default"],
        "OPTIONS": {"options": f"-c lock_timeout={timeout}"},
    }
# Persistent connections, as most sites run (a database restart then hits a dead one).
DATABASES["default"] = {**DATABASES["default"], "CONN_MAX_AGE": 60}
if PAYMENTS_SYNC["WEBHOOK_PROCESSING"] == "task":
    # Events are stored and handed to a queue that never runs them: a worker that crashed.
    _tasks = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
    TASKS = {"default": {"BACKEND": f"{_tasks}.backends.dummy.DummyBackend"}}
