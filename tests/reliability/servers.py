"""Real servers and processes on the test's PostgreSQL database: gunicorn and manage.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection

from tests.webhooks.test_concurrency import free_port

__all__ = ["free_port"]

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_PATH = "/api/payment/stripe/webhook/"


def dsn() -> str:
    """The DSN of the test database (the one this test process uses)."""
    db = connection.settings_dict
    return "postgresql://{}@{}:{}/{}".format(
        db["USER"], db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["NAME"]
    )


def server_env(secret: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PAYMENTS_SYNC_TEST_DATABASE": "postgres",
        "PAYMENTS_SYNC_TEST_POSTGRES": dsn(),
        "PAYMENTS_SYNC_TEST_WEBHOOK_SECRET": secret,
        "DJANGO_SETTINGS_MODULE": "tests.reliability.server_settings",
        **extra,
    }


@contextmanager
def gunicorn(
    secret: str, *, workers: int, port: int | None = None, **extra: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """gunicorn serving the test project on the test database; yields (master, webhook URL)."""
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
        env=server_env(secret, **extra),
    )
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    try:
        deadline = time.monotonic() + 30
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


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (gunicorn's workers)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


def blocked_backends(conn: psycopg.Connection) -> list[int]:
    """Backends of other sessions on this database waiting for a lock."""
    # Statistics views are read once per transaction unless the snapshot is dropped.
    conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
    ).fetchall()
    return [row[0] for row in rows]


def backend_alive(conn: psycopg.Connection, pid: int) -> bool:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return bool(conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())


def wait_until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` every 50 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def kill(pid: int) -> None:
    """SIGKILL one process we started (or a worker of one)."""
    os.kill(pid, signal.SIGKILL)
