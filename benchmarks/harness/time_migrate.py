"""Time ``migrate <app>`` on a fresh database, its dependencies migrated first and not timed."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", help="the app label whose migrations are timed")
    parser.add_argument("--before", nargs="*", default=[], help="app labels migrated untimed")
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    for label in args.before:
        call_command("migrate", label, verbosity=0, stdout=io.StringIO())
    tables_before = set(connection.introspection.table_names())
    applied_before = MigrationRecorder(connection).applied_migrations()
    started = time.perf_counter()
    call_command("migrate", args.app, verbosity=0, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    applied = [
        key
        for key in MigrationRecorder(connection).applied_migrations()
        if key not in applied_before
    ]
    tables = set(connection.introspection.table_names()) - tables_before
    print(
        json.dumps(
            {
                "app": args.app,
                "seconds": seconds,
                "migrations": len(applied),
                "migrations_of_app": sum(1 for label, _ in applied if label == args.app),
                "tables": len(tables),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
