"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_report_header() -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"django-payments-sync tests on {engine}"


#: Why a test marked with a database server's marker skips elsewhere.
SKIP_REASONS = {
    "postgres": (
        "needs PostgreSQL: set PAYMENTS_SYNC_TEST_POSTGRES to a DSN and "
        "PAYMENTS_SYNC_TEST_DATABASE=postgres (the README's test command does both "
        "when the DSN is set)"
    ),
    "mysql": (
        "needs MySQL/MariaDB: set PAYMENTS_SYNC_TEST_MYSQL to a DSN and "
        "PAYMENTS_SYNC_TEST_DATABASE=mysql (the README's test command does both "
        "when the DSN is set)"
    ),
    "server_db": (
        "needs a database server shared by processes: set PAYMENTS_SYNC_TEST_POSTGRES or "
        "PAYMENTS_SYNC_TEST_MYSQL (the README's test command runs these tests on each)"
    ),
}


#: Its tests are marked ``webhooks``, for scripts/test's pass on MySQL/MariaDB.
WEBHOOKS_TESTS = Path(__file__).resolve().parent / "webhooks"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` need PostgreSQL, ``mysql`` MySQL/MariaDB, and ``server_db``
    either of them: skipped, visibly, when run elsewhere. Tests under tests/webhooks are
    marked ``webhooks``."""
    from django.db import connection

    vendor = connection.vendor
    runs_here = {
        "postgres": vendor == "postgresql",
        "mysql": vendor == "mysql",
        "server_db": vendor in ("postgresql", "mysql"),
    }
    for item in items:
        if WEBHOOKS_TESTS in item.path.parents:
            item.add_marker(pytest.mark.webhooks)
        for marker, reason in SKIP_REASONS.items():
            if item.get_closest_marker(marker) and not runs_here[marker]:
                item.add_marker(pytest.mark.skip(reason=reason))
                break


@pytest.fixture
def user(db: None, django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="alice", email="alice@example.com", password="pw-alice"
    )


@pytest.fixture
def other_user(db: None, django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="bob", email="bob@example.com", password="pw-bob"
    )


os.environ.setdefault("PAYMENTS_SYNC_TESTING", "1")
