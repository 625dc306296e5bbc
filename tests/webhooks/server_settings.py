"""Settings of the test servers: the test project's, webhook options from the environment.

The database is tests.settings's, from the environment too: test_concurrency.py sets
``PAYMENTS_SYNC_TEST_DATABASE`` and the DSN (``PAYMENTS_SYNC_TEST_POSTGRES`` or
``PAYMENTS_SYNC_TEST_MYSQL``) to the test database the test itself uses.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import PAYMENTS_SYNC as _BASE

PAYMENTS_SYNC = {
    **_BASE,
    "AUTO_SYNC": False,
    "WEBHOOK_LOCK_SCOPE": os.environ.get("PAYMENTS_SYNC_TEST_LOCK_SCOPE", "customer"),
    "WEBHOOK_PROCESSING": os.environ.get("PAYMENTS_SYNC_TEST_PROCESSING", "sync"),
    "MAIL": {"ENABLED": False},
}
if os.environ.get("PAYMENTS_SYNC_TEST_PROVIDER") == "paddle":
    # The Paddle backend (nothing here calls Paddle: the webhooks carry what is applied).
    PAYMENTS_SYNC["BACKEND"] = "django_payments_sync.backends.paddle.PaddleBackend"
    PAYMENTS_SYNC["OPTIONS"] = {
        "api_key": "pdl_sdbx_server_tests",
        "api_base": "http://127.0.0.1:9",
        "webhook_secret": os.environ.get(
            "PAYMENTS_SYNC_TEST_PADDLE_SECRET", "pdl_ntfset_payments_sync_server_tests"
        ),
    }
CONN_MAX_AGE = 60
