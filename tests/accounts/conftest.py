"""Fixtures of the account tests: a second emulator (another Stripe account) and clean caches."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.sync import accounts
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from tests.backends.helpers import RecordingHTTPClient, emulator_options


@pytest.fixture(autouse=True)
def _fresh_account_cache() -> Iterator[None]:
    # Each test starts as a new process would: nothing read from SyncState yet.
    accounts.clear_cache()
    yield
    accounts.clear_cache()


@pytest.fixture(scope="session")
def other_emulator_server() -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(webhook_retry_backoff=0.05, webhook_max_attempts=2).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def other_emulator(other_emulator_server: StripeEmulator) -> Iterator[StripeEmulator]:
    """A second emulator: another Stripe account, with its own key and URL."""
    other_emulator_server.reset()
    yield other_emulator_server
    other_emulator_server.reset()


def use_emulator(settings: Any, emulator: StripeEmulator, **overrides: Any) -> BaseBackend:
    """Configure the Stripe backend against ``emulator``; answer the (recording) backend."""
    options = emulator_options(emulator.url, max_network_retries=0, **overrides)
    options["http_client"] = RecordingHTTPClient(timeout=options["timeout"])
    settings.PAYMENTS_SYNC = {"OPTIONS": options, "SELLER_COUNTRY": "DE"}
    return get_backend()


def run(*args: str) -> tuple[int, str, str]:
    """``manage.py payments_sync *args``: (exit status, stdout, stderr) as a shell sees them."""
    out, err = StringIO(), StringIO()
    try:
        call_command("payments_sync", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    except Exception as exc:
        # What BaseCommand.run_from_argv does with a CommandError: print it, exit 1.
        from django.core.management import CommandError

        if not isinstance(exc, CommandError):
            raise
        return 1, out.getvalue(), err.getvalue() + f"CommandError: {exc}\n"
    return 0, out.getvalue(), err.getvalue()
