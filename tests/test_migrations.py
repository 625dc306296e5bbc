"""Migrations are complete and lean."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader


@pytest.mark.django_db
def test_makemigrations_check_is_clean() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


def test_the_app_has_one_lean_initial_migration_chain() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = sorted(name for app, name in loader.disk_migrations if app == "django_payments_sync")
    assert ours[0] == "0001_initial"
    # Lean: a handful of migrations, not dj-stripe's hundreds.
    assert len(ours) <= 7


@pytest.mark.django_db
def test_every_model_has_its_table() -> None:
    from django.apps import apps

    tables = set(connection.introspection.table_names())
    for model in apps.get_app_config("django_payments_sync").get_models():
        if not model._meta.swapped:
            assert model._meta.db_table in tables
