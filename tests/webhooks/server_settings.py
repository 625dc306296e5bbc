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
CONN_MAX_AGE = 60
