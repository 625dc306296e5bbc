"""``manage.py payments_sync <subcommand>``: push, diff, webhook-endpoint, events, vat."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_payments_sync.management.subcommands import SUBCOMMANDS


class Command(BaseCommand):
    help = "Synchronize with the payment provider and manage webhook events."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(
            dest="subcommand", title="subcommands", required=True, metavar="SUBCOMMAND"
        )
        for name, module_name in sorted(SUBCOMMANDS.items()):
            module = importlib.import_module(
                f"{__package__.rsplit('.', 1)[0]}.subcommands.{module_name}"
            )
            sub = subparsers.add_parser(
                name,
                help=(module.__doc__ or "").strip().splitlines()[0],
                description=(module.__doc__ or "").strip(),
            )
            module.add_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["subcommand"]
        if name not in SUBCOMMANDS:
            raise CommandError(f"Unknown subcommand {name!r}.")
        module = importlib.import_module(
            f"{__package__.rsplit('.', 1)[0]}.subcommands.{SUBCOMMANDS[name]}"
        )
        status = module.handle(self, options)
        if status:
            sys.exit(status)
