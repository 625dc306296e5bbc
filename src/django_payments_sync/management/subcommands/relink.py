"""Move this installation to the provider account the current credentials reach, on purpose.

After a change of credentials (another account, test to live, a new emulator), commands and
checkouts stop with "links belong to account ...". ``relink`` removes the links of the old
account (the next ``push`` creates the products, prices and customers in the new account;
subscriptions of the old account are unlinked and listed, their local rows are kept) and binds
the installation to the new account. ``--dry-run`` shows what it would do; without ``--yes`` it
asks first.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.sync.accounts import relink


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="Show what would be unlinked; change nothing."
    )
    parser.add_argument(
        "--yes", action="store_true", help="Do it without asking (for scripts and deploys)."
    )
    parser.add_argument(
        "--no-input",
        "--noinput",
        action="store_false",
        dest="interactive",
        help="Never ask: without --yes, change nothing.",
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    try:
        plan = relink(dry_run=True)
        if options.get("dry_run") or plan.changes_nothing:
            for line in plan.lines():
                command.stdout.write(line)
            return 0
        if not options.get("yes"):
            for line in plan.lines():
                command.stdout.write(line)
            if not options.get("interactive", True) or not _confirmed():
                command.stderr.write("Nothing changed: run again with --yes to relink.")
                return 1
        report = relink()
    except PaymentsSyncError as exc:
        raise CommandError(f"Relink stopped: {exc}") from exc
    for line in report.lines():
        command.stdout.write(line)
    return 0


def _confirmed() -> bool:
    try:
        answer = input("Relink to the new account? Type 'yes' to continue: ")
    except EOFError:
        return False
    return answer.strip().lower() == "yes"
