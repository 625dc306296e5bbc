"""Report drift between local data and the provider (exit status 1 when there is any).

Lists the provider's products, prices and customers (in pages) and compares them with what a
push would send: rows missing at the provider, fields that differ, and provider objects whose
local row is gone. Changes nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.interactor.sync_push import diff


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", type=int, default=200, help="Print at most this many differences (default 200)."
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    try:
        drifts = diff()
    except PaymentsSyncError as exc:
        raise CommandError(f"Could not read the provider: {exc}") from exc
    if not drifts:
        command.stdout.write("No drift: the provider matches local data.")
        return 0
    limit = max(0, int(options.get("limit") or 0))
    for drift in drifts[:limit]:
        command.stdout.write(drift.describe())
    if len(drifts) > limit:
        command.stdout.write(f"... and {len(drifts) - limit} more.")
    kinds: dict[str, int] = {}
    for drift in drifts:
        kinds[drift.kind] = kinds.get(drift.kind, 0) + 1
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    command.stdout.write(f"{len(drifts)} difference(s): {detail}. Run `payments_sync push`.")
    return 1
