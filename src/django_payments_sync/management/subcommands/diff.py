"""Report drift between local data and the provider (exit status 1 when there is any).

Lists the provider's products, prices, customers (with their tax ids) and subscriptions (in
pages) and compares them with what a push sends and what the webhook handlers write: rows
missing at the provider, fields that differ, provider objects whose local row is gone or not
known. Customers deleted at the provider are listed apart (not drift). Changes nothing;
`payments_sync reconcile` repairs what it finds.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.sync.diff import diff


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=_non_negative,
        default=200,
        help="Print at most this many differences (default 200).",
    )


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    try:
        found = diff()
    except PaymentsSyncError as exc:
        raise CommandError(f"Could not read the provider: {exc}") from exc
    drifts = [d for d in found if d.is_drift]
    deleted = [d for d in found if not d.is_drift]
    if deleted:
        command.stdout.write(
            f"{len(deleted)} customer(s) deleted at the provider, kept locally (not drift; "
            "`payments_sync push --recreate-deleted` creates them again)."
        )
    if not drifts:
        command.stdout.write("No drift: the provider matches local data.")
        return 0
    limit = int(options.get("limit") or 0)
    for drift in drifts[:limit]:
        command.stdout.write(drift.describe())
    if len(drifts) > limit:
        command.stdout.write(f"... and {len(drifts) - limit} more.")
    kinds: dict[str, int] = {}
    for drift in drifts:
        kinds[drift.kind] = kinds.get(drift.kind, 0) + 1
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    command.stdout.write(
        f"{len(drifts)} difference(s): {detail}. Run `payments_sync reconcile` to repair them."
    )
    return 1
