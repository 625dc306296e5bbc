"""WSGI application of the test project for real multi-process servers (gunicorn) in tests.

Reads tests.settings, then ``PAYMENTS_SYNC_TEST_LOCK_SCOPE`` and ``PAYMENTS_SYNC_TEST_PROCESSING``
from the environment, so each server can run one configuration.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.webhooks.server_settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
