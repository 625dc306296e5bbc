"""``manage.py payments_sync``'s command line (issue 19, item 12): the common options after a
subcommand, plain help text, a subcommand's own usage in its errors, and refused values."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from django_payments_sync.management.commands.payments_sync import Command
from django_payments_sync.management.subcommands import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]


def parse(*args: str) -> dict[str, object]:
    return vars(Command().create_parser("manage.py", "payments_sync").parse_args(args))


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py payments_sync ...`` from the command line, with the test settings."""
    return subprocess.run(
        [sys.executable, "-m", "django", "payments_sync", *args],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("subcommand", sorted(SUBCOMMANDS))
def test_verbosity_after_the_subcommand(subcommand: str) -> None:
    extra = {
        "events": ["process"],
        "vat": ["recheck"],
        "webhook-endpoint": ["https://a.example"],
        "refund": ["1"],
        "usage": ["send"],
    }
    args = [subcommand, *extra.get(subcommand, [])]
    assert parse(*args, "-v", "2")["verbosity"] == 2
    assert parse(*args, "--verbosity=0")["verbosity"] == 0
    # Before the subcommand, as Django's own commands have it, and the default.
    assert parse("-v", "3", *args)["verbosity"] == 3
    assert parse(*args)["verbosity"] == 1


def test_traceback_after_the_subcommand() -> None:
    assert parse("push", "--traceback")["traceback"] is True
    assert parse("push")["traceback"] is False


@pytest.mark.django_db
def test_push_with_verbosity_runs(settings: Any) -> None:
    settings.PAYMENTS_SYNC = {"BACKEND": "django_payments_sync.backends.locmem.LocmemBackend"}
    out = StringIO()
    call_command("payments_sync", "push", "-v", "2", "--dry-run", stdout=out)
    assert "Dry run, nothing changed" in out.getvalue()


@pytest.mark.parametrize("subcommand", sorted(SUBCOMMANDS))
def test_help_is_plain_text(subcommand: str) -> None:
    result = manage(subcommand, "-h")
    assert result.returncode == 0, result.stderr
    assert f"usage: __main__.py payments_sync {subcommand}" in result.stdout
    for markup in ("``", ":func:", ":data:", ":class:", ":meth:"):
        assert markup not in result.stdout, result.stdout


def test_top_level_help_lists_the_subcommands_in_plain_text() -> None:
    result = manage("-h")
    assert result.returncode == 0, result.stderr
    assert "``" not in result.stdout
    for name in SUBCOMMANDS:
        assert name in result.stdout


def test_an_unknown_option_shows_the_subcommands_usage() -> None:
    result = manage("push", "--bogus")
    assert result.returncode == 2
    assert "usage: __main__.py payments_sync push" in result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr


def test_an_unknown_option_from_code_names_it() -> None:
    with pytest.raises(Exception, match="unrecognized arguments: --bogus"):
        call_command("payments_sync", "push", "--bogus")


def test_a_negative_limit_is_refused() -> None:
    result = manage("diff", "--limit", "-3")
    assert result.returncode == 2
    assert "usage: __main__.py payments_sync diff" in result.stderr
    assert "--limit" in result.stderr
