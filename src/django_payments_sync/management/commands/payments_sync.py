"""``manage.py payments_sync <subcommand>``: push, diff, webhook-endpoint, events, vat, relink."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_payments_sync.exceptions import AccountMismatch, PaymentsSyncError
from django_payments_sync.management.subcommands import (
    ACCOUNT_CHECK_REQUIRED,
    ACCOUNT_CHECKED,
    SUBCOMMANDS,
)

#: Django's options common to every command, also accepted after a subcommand
#: (``payments_sync push -v 2``): (flags, keyword arguments of ``add_argument``).
COMMON_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("-v", "--verbosity"),
        {
            "type": int,
            "choices": [0, 1, 2, 3],
            "help": "Verbosity level; 0=minimal output, 1=normal output, 2=verbose output, "
            "3=very verbose output",
        },
    ),
    (("--settings",), {"help": "The Python path to a settings module."}),
    (("--pythonpath",), {"help": "A directory to add to the Python path."}),
    (("--traceback",), {"action": "store_true", "help": "Raise on CommandError exceptions."}),
    (("--no-color",), {"action": "store_true", "help": "Don't colorize the command output."}),
    (("--force-color",), {"action": "store_true", "help": "Force colorization of the output."}),
    (("--skip-checks",), {"action": "store_true", "help": "Skip system checks."}),
)


def plain(docstring: str | None) -> str:
    """A module docstring as plain text: reST roles and inline literals without their markup."""
    text = (docstring or "").strip()
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)  # :func:`name`, :data:`~x.NAME`
    return re.sub(r"``([^`]+)``|`([^`]+)`", lambda m: m.group(1) or m.group(2), text)


class SubcommandParser(CommandParser):
    """A subcommand's parser: Django's common options (which keep their top-level value unless
    given again here), its own usage in its errors, and help text kept as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        for flags, options in COMMON_OPTIONS:
            self.add_argument(*flags, default=argparse.SUPPRESS, **options)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            # Here, not in the top-level parser: the usage printed is this subcommand's.
            self.error("unrecognized arguments: " + " ".join(extras))
        return parsed, extras


class Command(BaseCommand):
    help = "Synchronize with the payment provider and manage webhook events."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(
            dest="subcommand",
            title="subcommands",
            required=True,
            metavar="SUBCOMMAND",
            parser_class=SubcommandParser,
        )
        for name, module_name in sorted(SUBCOMMANDS.items()):
            module = importlib.import_module(
                f"{__package__.rsplit('.', 1)[0]}.subcommands.{module_name}"
            )
            description = plain(module.__doc__)
            sub = subparsers.add_parser(
                name, help=description.splitlines()[0], description=description
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
        from django_payments_sync.sync.accounts import check_account

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
