"""pytest plugin of django-payments-sync: fixtures host projects get by installing the library."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The VIES responder's fixtures (stdlib-only, like everything this plugin imports eagerly).
from .vies_fixtures import vies_responder, vies_settings

if TYPE_CHECKING:
    from .paddle_emulator import PaddleEmulator
    from .stripe_emulator import StripeEmulator


#: The ini option that turns off :func:`pytest_collection_modifyitems`'s file database.
SQLITE_FILE_OPTION = "payments_sync_live_server_sqlite_file"
#: The test databases the plugin moved into files, for pytest's header.
_MOVED_KEY = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        SQLITE_FILE_OPTION,
        type="bool",
        default=True,
        help=(
            "django-payments-sync: when tests use live_server and the test database is SQLite "
            "in memory (Django's default), put it in a temporary file instead (default: true)"
        ),
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``live_server`` in the session, an in-memory SQLite test database becomes a file.

    Django's in-memory SQLite test database is one shared-cache database: the live server's
    thread reaches it through a connection of its own (or through the test's very connection,
    when the settings' NAME is in memory too), and SQLite's shared-cache table locks then fail
    a webhook written while the test, or the autosync after its commit, writes: "database
    table is locked", instead of waiting. In a file, each thread has its own connection and
    SQLite makes their transactions wait for each other. Nothing changes for other databases,
    for a SQLite test database that already has a file name, or for sessions without
    ``live_server``.
    """
    if not config.getini(SQLITE_FILE_OPTION):
        return
    if not any("live_server" in getattr(item, "fixturenames", ()) for item in items):
        return
    try:
        from django.conf import settings
        from django.db import connections
    except ImportError:  # pragma: no cover - a pytest session without Django
        return
    if not settings.configured:
        return
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        test_settings = connection.settings_dict.setdefault("TEST", {})
        name = test_settings.get("NAME")
        if name and not _in_memory(name):
            continue
        directory = tempfile.mkdtemp(prefix="payments-sync-test-db-")
        config.add_cleanup(functools.partial(shutil.rmtree, directory, ignore_errors=True))
        test_settings["NAME"] = str(Path(directory) / f"test_{alias}.sqlite3")
        config.stash.setdefault(_MOVED_KEY, []).append(test_settings["NAME"])
        if _in_memory(str(connection.settings_dict["NAME"])):
            # pytest-django's live server may start before the test database is set up, and
            # would hand an in-memory database's connection to its thread all the same.
            connection.settings_dict["NAME"] = test_settings["NAME"]
        options = connection.settings_dict.setdefault("OPTIONS", {})
        # A writer takes the lock when its transaction starts, so two threads' transactions
        # wait for each other (up to the timeout) instead of one failing at once; a throwaway
        # database needs no fsync.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("init_command", "PRAGMA synchronous=OFF")


def _in_memory(name: str) -> bool:
    """Django's test for an in-memory SQLite name (``:memory:``, ``file:...?mode=memory``)."""
    return name == ":memory:" or "mode=memory" in name


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    names = config.stash.get(_MOVED_KEY, [])
    if not names:
        return []
    return [
        "django-payments-sync: live_server on SQLite: the test database is a file "
        f"({', '.join(names)}); set {SQLITE_FILE_OPTION} = false to keep it in memory"
    ]


@pytest.fixture(scope="session")
def stripe_emulator_server() -> Iterator[StripeEmulator]:
    """One Stripe emulator per test session (per xdist worker), with short webhook retries.

    Most tests want `stripe_emulator`, which also resets the state around each test.
    """
    # Imported here so that loading the plugin costs nothing for suites that never use it.
    from .stripe_emulator import StripeEmulator

    emulator = StripeEmulator(
        webhook_retry_backoff=0.05, webhook_max_attempts=4, webhook_timeout=2.0
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def stripe_emulator(stripe_emulator_server: StripeEmulator) -> Iterator[StripeEmulator]:
    """The session's Stripe emulator, emptied before and after the test.

    `.url` is its base URL, `.client()` a configured `stripe.StripeClient`, and the control
    helpers (`advance_clock`, `add_webhook_endpoint`, `wait_for_deliveries`, `inject_fault`,
    ...) steer it.
    """
    stripe_emulator_server.reset()
    yield stripe_emulator_server
    stripe_emulator_server.reset()


@pytest.fixture(scope="session")
def paddle_emulator_server() -> Iterator[PaddleEmulator]:
    """One Paddle Billing emulator per test session (per xdist worker), short webhook retries.

    Most tests want `paddle_emulator`, which also resets the state around each test. Needs
    the `[paddle]` extra (paddle-python-sdk) only for `.client()`.
    """
    from .paddle_emulator import PaddleEmulator

    emulator = PaddleEmulator(
        webhook_retry_backoff=0.05, webhook_max_attempts=4, webhook_timeout=2.0
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def paddle_emulator(paddle_emulator_server: PaddleEmulator) -> Iterator[PaddleEmulator]:
    """The session's Paddle emulator, emptied before and after the test.

    `.url` is its base URL, `.client()` a configured `paddle_billing.Client`, and the control
    helpers (`advance_clock`, `add_notification_destination`, `pay_transaction`,
    `wait_for_deliveries`, `inject_fault`, ...) steer it.
    """
    paddle_emulator_server.reset()
    yield paddle_emulator_server
    paddle_emulator_server.reset()


__all__ = [
    "paddle_emulator",
    "paddle_emulator_server",
    "stripe_emulator",
    "stripe_emulator_server",
    "vies_responder",
    "vies_settings",
]
