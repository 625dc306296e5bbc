"""Push local products, prices and customers to the provider: only what changed since the last push.

Creates what the provider lacks, updates what changed, archives deactivated products and prices,
and replaces prices whose amount, currency or interval changed. Rows marked pending or failed by
an earlier automatic sync are retried. Exit status 1 when some row could not be pushed.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.sync.push import push_all
from django_payments_sync.sync.rows import SyncAction, SyncResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="Report what would be pushed; change nothing."
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="Also compare with the provider's state (repairing drift) and archive or delete "
        "provider objects whose local row is gone. Not for an account another database uses.",
    )
    parser.add_argument(
        "--recreate-deleted",
        action="store_true",
        help="Create a new provider customer for customers whose provider customer was deleted "
        "at the provider (otherwise they are reported and left alone).",
    )
    parser.add_argument(
        "--only",
        choices=("products", "customers"),
        help="Push only the catalog (products and prices) or only the customers.",
    )


def _describe(result: SyncResult) -> str:
    where = result.external_id or "-"
    verb = result.action.value if not result.dry_run else f"would be {result.action.value}"
    extra = f" ({result.detail})" if result.detail else ""
    line = f"{result.object_type} {result.local_id or '?'} [{where}]: {verb}{extra}"
    if result.error is not None:
        line += f": {result.error}"
    return line


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    verbosity = int(options.get("verbosity", 1))
    dry_run = bool(options.get("dry_run"))
    only = options.get("only")
    done = 0

    def progress(result: SyncResult) -> None:
        nonlocal done
        done += 1
        if result.action is SyncAction.FAILED:
            command.stderr.write(_describe(result))
        elif verbosity >= 2 or (verbosity >= 1 and result.action is not SyncAction.UNCHANGED):
            command.stdout.write(_describe(result))
        if verbosity >= 1 and done % 100 == 0:
            command.stdout.write(f"... {done} rows checked")

    try:
        report = push_all(
            dry_run=dry_run,
            prune=bool(options.get("prune")),
            products=only in (None, "products"),
            customers=only in (None, "customers"),
            progress=progress,
            recreate_deleted=True if options.get("recreate_deleted") else None,
        )
    except PaymentsSyncError as exc:
        raise CommandError(f"Push stopped: {exc}") from exc
    counts = report.counts()
    summary = ", ".join(
        f"{counts[a.value]} {a.value}" for a in SyncAction if a is not SyncAction.SKIPPED
    )
    if counts[SyncAction.SKIPPED.value]:
        summary += (
            f"; {counts[SyncAction.SKIPPED.value]} skipped (deleted at the provider; "
            "--recreate-deleted creates them again)"
        )
    prefix = "Dry run, nothing changed: " if dry_run else "Pushed: "
    command.stdout.write(prefix + summary + ".")
    return 1 if report.failures else 0
