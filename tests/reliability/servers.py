"""Real servers and processes on the test's PostgreSQL database: gunicorn and manage.py."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.servers import ROOT, WEBHOOK_PATH, database_environment, free_port
from tests.servers import gunicorn as serve

__all__ = ["ROOT", "WEBHOOK_PATH", "free_port"]


def dsn() -> str:
    """The DSN of the test database (the one this test process uses)."""
    return database_environment()["PAYMENTS_SYNC_TEST_POSTGRES"]


def server_env(secret: str, **extra: str) -> dict[str, str]:
    """The environment of a server or command process on the test database, these settings."""
    return {
        **os.environ,
        **database_environment(),
        "PAYMENTS_SYNC_TEST_WEBHOOK_SECRET": secret,
        "DJANGO_SETTINGS_MODULE": "tests.reliability.server_settings",
        **extra,
    }


@contextmanager
def gunicorn(
    secret: str, *, workers: int, port: int | None = None, **extra: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """gunicorn on the test database with these tests' settings; yields (master, webhook URL)."""
    env = server_env(secret, **extra)
    with serve(
        workers=workers, settings_module=env["DJANGO_SETTINGS_MODULE"], env=env, port=port
    ) as running:
        yield running


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
