"""Webhook events: ``events process`` (for cron), ``events retry``, ``events replay <id>``,
``events prune --older-than 90d``.

``process`` applies every received event and retries the deferred ones, key by key and oldest
first, under the same locks as the endpoint: run it from cron, it is safe beside live traffic.
``retry`` applies the failed events again; ``replay <event id>`` applies one event again
whatever its status (an older state never overwrites a newer one). ``prune`` deletes settled
events older than the given age in batches (see :mod:`django_payments_sync.webhooks.retention`).
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand

from django_payments_sync.models import WebhookEvent
from django_payments_sync.webhooks import processing, retention


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="events_action", metavar="ACTION", required=True)
    process = actions.add_parser(
        "process", help="Apply received events and retry deferred ones (for cron)."
    )
    process.add_argument("--no-deferred", action="store_true", help="Leave deferred events alone.")
    retry = actions.add_parser("retry", help="Apply the failed events again.")
    retry.add_argument("event_ids", nargs="*", help="Only these provider event ids.")
    replay = actions.add_parser("replay", help="Apply one event again, whatever its status.")
    replay.add_argument("event_id", help="The provider's event id, e.g. evt_...")
    replay.add_argument("--provider", default=None, help="The provider (when ids may clash).")
    prune = actions.add_parser(
        "prune", help="Delete settled events older than an age, in batches (for cron)."
    )
    prune.add_argument(
        "--older-than", required=True, help="Age of the events to delete: 90d, 90 (days), 12h."
    )
    prune.add_argument(
        "--batch-size", type=int, default=retention.DEFAULT_BATCH_SIZE, help="Rows per transaction."
    )
    prune.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    action = options.get("events_action")
    if action == "process":
        report = processing.process_pending(include_deferred=not options.get("no_deferred"))
        command.stdout.write(f"Processed webhook events: {report}.")
        return 0
    if action == "retry":
        ids = options.get("event_ids") or []
        pks = None
        if ids:
            pks = list(WebhookEvent.objects.filter(event_id__in=ids).values_list("pk", flat=True))
            missing = sorted(
                set(ids)
                - set(WebhookEvent.objects.filter(pk__in=pks).values_list("event_id", flat=True))
            )
            if missing:
                command.stderr.write(f"Unknown event id(s): {', '.join(missing)}.")
                return 1
        report = processing.retry_failed(pks)
        command.stdout.write(f"Retried failed webhook events: {report}.")
        return 1 if report.counts.get("failed") else 0
    if action == "replay":
        try:
            row = processing.replay_event(options["event_id"], options.get("provider"))
        except WebhookEvent.DoesNotExist:
            command.stderr.write(f"No webhook event {options['event_id']!r} is stored.")
            return 1
        except WebhookEvent.MultipleObjectsReturned:
            command.stderr.write("Several providers sent that id: pass --provider.")
            return 1
        command.stdout.write(f"Replayed {row.event_id} ({row.type}): {row.status}.")
        if row.last_error and row.status == "failed":
            command.stderr.write(row.last_error)
        return 1 if row.status == "failed" else 0
    if action == "prune":
        return _prune(command, options)
    command.stderr.write(f"Unknown events action {action!r}.")
    return 2


def _prune(command: BaseCommand, options: dict[str, Any]) -> int:
    try:
        age = retention.parse_age(options["older_than"])
        report = retention.prune_events(
            age, batch_size=options["batch_size"], dry_run=options.get("dry_run", False)
        )
    except ValueError as exc:
        command.stderr.write(str(exc))
        return 2
    verb = "Would delete" if options.get("dry_run") else "Deleted"
    command.stdout.write(
        f"{verb} {report.deleted} settled webhook event(s) settled before "
        f"{report.cutoff:%Y-%m-%d %H:%M} UTC ({report.batches} batch(es))."
    )
    return 0
