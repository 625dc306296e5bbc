"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os

import pytest


def pytest_report_header() -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"django-payments-sync tests on {engine}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` need PostgreSQL: skipped, visibly, when run elsewhere."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        return
    reason = (
        "needs PostgreSQL: set PAYMENTS_SYNC_TEST_POSTGRES to a DSN and "
        "PAYMENTS_SYNC_TEST_DATABASE=postgres (the README's test command does both "
        "when the DSN is set)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


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
