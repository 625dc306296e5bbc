"""gunicorn serving the test project on the suite's own test database, in OS processes of its own.

Used by the tests that need real concurrency (several worker processes sharing PostgreSQL or
MySQL/MariaDB) and by the benchmarks. The workers reach the test database through the same
environment variables ``tests.settings`` reads, so they share it with the test process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_PATH = "/api/payment/stripe/webhook/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_environment() -> dict[str, str]:
    """The environment pointing ``tests.settings`` at this test database, from another process."""
    from django.db import connection

    db = connection.settings_dict
    vendor = connection.vendor
    if vendor == "postgresql":
        scheme, variable, name, port = "postgresql", "PAYMENTS_SYNC_TEST_POSTGRES", "postgres", 5432
    elif vendor == "mysql":
        scheme, variable, name, port = "mysql", "PAYMENTS_SYNC_TEST_MYSQL", "mysql", 3306
    else:
        raise RuntimeError(f"gunicorn's workers cannot share a {vendor} test database")
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    dsn = "{}://{}@{}:{}/{}".format(
        scheme, user, db["HOST"] or "127.0.0.1", db["PORT"] or port, quote(db["NAME"])
    )
    return {"PAYMENTS_SYNC_TEST_DATABASE": name, variable: dsn}


@contextmanager
def gunicorn(
    *,
    workers: int,
    settings_module: str,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    start_timeout: float = 30,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Serve ``tests.webhooks.server`` with ``workers`` processes; yields (master, webhook URL).

    ``env`` is added to this process's environment (point the database with
    :func:`database_environment`). The server is ready once the webhook URL answers 405 to a
    GET; it is stopped (SIGTERM, then SIGKILL) when the block ends.
    """
    port = port or free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "tests.webhooks.server:application",
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {}), "DJANGO_SETTINGS_MODULE": settings_module},
    )
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
            except urllib.error.HTTPError as exc:
                if exc.code == 405:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield server, url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
