"""Send the usage outbox to the provider, oldest first (``payments_sync usage send``).

What ``record_usage()`` recorded and the ``send_usage_events`` task has not sent yet (no task
backend, or the provider was down): run it from cron. Exit 1 while events are still pending
after the run (the provider failed again), with the error.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["send"], help="send: drain the outbox.")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="Most events this run sends (default: USAGE['BATCH_SIZE']).",
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    from django_payments_sync.exceptions import UnsupportedOperation
    from django_payments_sync.interactor.usage import send_usage

    limit = options.get("limit")
    if limit is not None and limit < 1:
        command.stderr.write(f"--limit must be 1 or more, not {limit}.")
        return 1
    try:
        report = send_usage(limit=limit)
    except UnsupportedOperation as exc:
        command.stderr.write(f"{exc} Nothing was sent; the events stay pending.")
        return 1
    command.stdout.write(
        f"Usage events: {report.sent} sent, {report.failed} refused, {report.pending} pending."
    )
    if report.error:
        command.stderr.write(f"Stopped at a provider failure: {report.error}")
        return 1
    return 0
