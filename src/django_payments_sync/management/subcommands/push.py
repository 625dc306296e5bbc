"""Push local products, prices and customers to the provider: only what changed since the last push.

Creates what the provider lacks, updates what changed, archives deactivated products and prices,
and replaces prices whose amount, currency or interval changed. Rows marked pending or failed by
an earlier automatic sync are retried. Exit status 1 when some row could not be pushed.

Provider calls stay within a rate budget (PUSH["RATE_LIMIT"] operations a second, or --rate;
by default the provider's limit for the key: for Stripe 25 in test mode, 100 live), made by
--concurrency threads at once (PUSH["CONCURRENCY"]). A push that was stopped (killed, a lost
connection) is run again to finish: what was pushed is not pushed twice. A progress bar is drawn
on stderr when it is a terminal (--no-progress: none).
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.management.progress import ProgressBar
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
    parser.add_argument(
        "--rate",
        type=_positive(float),
        help="Provider operations a second for the whole push (default: PUSH['RATE_LIMIT'], "
        "else the provider's limit for the key: Stripe 25 in test mode, 100 live).",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive(int),
        help="Products pushed at once, each by its own thread (default: PUSH['CONCURRENCY']).",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="No progress bar (there is none either when stderr is not a terminal).",
    )


def _positive(kind: type[Any]) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


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
    bar = ProgressBar(command.stderr, enabled=not options.get("no_progress"))

    def progress(result: SyncResult) -> None:
        nonlocal done
        done += 1
        if result.action is SyncAction.FAILED:
            bar.print(command.stderr.write, _describe(result))
        elif verbosity >= 2 or (verbosity >= 1 and result.action is not SyncAction.UNCHANGED):
            bar.print(command.stdout.write, _describe(result))
        if bar.active:
            bar.advance()
        elif verbosity >= 1 and done % 100 == 0:
            command.stdout.write(f"... {done} rows checked")

    def planned(kind: str, rows: int) -> None:
        bar.start("products and prices" if kind == "products" else kind, rows)

    try:
        report = push_all(
            dry_run=dry_run,
            prune=bool(options.get("prune")),
            products=only in (None, "products"),
            customers=only in (None, "customers"),
            progress=progress,
            recreate_deleted=True if options.get("recreate_deleted") else None,
            rate=options.get("rate"),
            concurrency=options.get("concurrency"),
            planned=planned,
        )
    except PaymentsSyncError as exc:
        raise CommandError(f"Push stopped: {exc}") from exc
    finally:
        bar.finish()
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
