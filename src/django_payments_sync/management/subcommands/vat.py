"""VAT numbers: ``vat recheck`` asks VIES again about the numbers it could not check.

Numbers saved while VIES was down (or not checked yet) are retried with backoff; a number whose
status changes gets a new tax decision and is pushed to the provider. Run it from cron or a
scheduler every few minutes; ``--force`` ignores the backoff schedule.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand

from django_payments_sync.interactor.billing import recheck_pending_vat


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="vat_action", metavar="ACTION", required=True)
    recheck = actions.add_parser(
        "recheck",
        help="Ask VIES again about the VAT numbers it could not check (those that are due).",
    )
    recheck.add_argument(
        "--force", action="store_true", help="Recheck every pending number, due or not."
    )
    recheck.add_argument(
        "--limit", type=int, default=None, help="Check at most this many numbers in this run."
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    if options.get("vat_action") != "recheck":
        command.stderr.write(f"Unknown vat action {options.get('vat_action')!r}.")
        return 2
    limit = options.get("limit")
    if limit is not None and limit < 1:
        command.stderr.write("--limit must be at least 1.")
        return 2
    report = recheck_pending_vat(force=bool(options.get("force")), limit=limit)
    command.stdout.write(
        f"Rechecked {report.count} VAT number(s): {len(report.changed)} changed status, "
        f"{len(report.still_pending)} still waiting for VIES."
    )
    return 0
