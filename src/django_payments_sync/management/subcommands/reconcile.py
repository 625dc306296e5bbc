"""Repair what `diff` finds, by who owns each field: push the host's, apply the provider's.

Products, prices and the host's customer fields are pushed; shared fields the host has not
changed since take the provider's value; subscriptions take the provider's state from a fresh
read (sending the host signals of each change). Every provider call waits for a token of a rate
limit (RECONCILE["RATE_LIMIT"] a second, or --rate). Progress is checkpointed: a run that was
stopped resumes where it was (--restart starts over). --adopt takes over an account filled by
other means: provider customers are linked to local ones by our metadata, then by email, and
the missing local customers are created. Exit status 1 when something could not be repaired.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.interactor.reconcile import load_checkpoint, reconcile


def _rate(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value} is not a positive rate")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="Report what would be repaired; change nothing."
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="Link provider customers no row is linked to (by metadata, then email) and create "
        "the missing local customers.",
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=None,
        help="Provider operations a second (default: the RECONCILE['RATE_LIMIT'] setting).",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="Ignore the checkpoint of an interrupted run and start over.",
    )
    parser.add_argument(
        "--recreate-deleted",
        action="store_true",
        help="Create a new provider customer for customers deleted at the provider.",
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    verbosity = int(options.get("verbosity", 1))
    dry_run = bool(options.get("dry_run"))
    resume = not options.get("restart")
    checkpoint = load_checkpoint() if resume and not dry_run else None
    if checkpoint and verbosity >= 1:
        command.stdout.write(
            f"Resuming the run interrupted at {checkpoint.get('at', '?')}: "
            f"{checkpoint['phase']} after row {checkpoint.get('after', 0)}."
        )
    shown: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if verbosity < 1 or total < 1:
            return
        step = max(1, total // 20)
        if done == total or done % step == 0:
            width = 30
            filled = int(width * done / total)
            if shown.get(phase) != filled or done == total:
                shown[phase] = filled
                bar = "#" * filled + "." * (width - filled)
                command.stderr.write(f"{phase:<13} [{bar}] {done}/{total}")

    try:
        report = reconcile(
            dry_run=dry_run,
            adopt=bool(options.get("adopt")),
            rate=options.get("rate"),
            resume=resume,
            progress=progress,
            recreate_deleted=True if options.get("recreate_deleted") else None,
        )
    except PaymentsSyncError as exc:
        raise CommandError(
            f"Reconcile stopped: {exc}. Run it again to resume from the last checkpoint."
        ) from exc
    for repair in report.repairs:
        line = repair.describe()
        if dry_run:
            line = "would be " + line
        (command.stderr if repair.action == "failed" else command.stdout).write(line)
    command.stdout.write(report.summary())
    return 1 if report.failures else 0
