"""``manage.py payments_sync <subcommand>``: push, diff, webhook-endpoint, events, vat, relink."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_payments_sync.exceptions import AccountMismatch, PaymentsSyncError
from django_payments_sync.management.subcommands import (
    ACCOUNT_CHECK_REQUIRED,
    ACCOUNT_CHECKED,
    SUBCOMMANDS,
)


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
        if name in ACCOUNT_CHECKED:
            self._check_account(name)
        status = module.handle(self, options)
        if status:
            sys.exit(status)

    def _check_account(self, name: str) -> None:
        """Stop before any provider call when the credentials reach another account.

        ``vat`` goes on when the provider cannot be asked (VIES is its job; its pushes fail and
        are retried like any other), but never into another account.
        """
        from django_payments_sync.interactor.accounts import check_account

        try:
            check_account()
        except AccountMismatch as exc:
            raise CommandError(str(exc)) from exc
        except PaymentsSyncError as exc:
            message = f"Could not tell which provider account the credentials reach: {exc}"
            if name not in ACCOUNT_CHECK_REQUIRED:
                self.stderr.write(f"{message} Pushes to the provider will be retried later.")
                return
            raise CommandError(message) from exc
