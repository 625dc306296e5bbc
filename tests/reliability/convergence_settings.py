"""Settings of the convergence storm's gunicorn workers: the reliability servers' settings with
``AUTO_SYNC`` on, as a site runs them (the same settings for the web requests and the webhook
endpoint), so a webhook that changes a customer's tax status pushes that customer from the
worker after commit."""

from __future__ import annotations

from typing import Any

from tests.reliability.server_settings import *  # noqa: F403
from tests.reliability.server_settings import PAYMENTS_SYNC as _SERVER

_server: Any = _SERVER
PAYMENTS_SYNC = {**_server, "AUTO_SYNC": True}
