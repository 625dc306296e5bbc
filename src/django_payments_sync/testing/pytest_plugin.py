"""pytest plugin of django-payments-sync: fixtures host projects get by installing the library."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

# The VIES responder's fixtures (stdlib-only, like everything this plugin imports eagerly).
from .vies_fixtures import vies_responder, vies_settings

if TYPE_CHECKING:
    from .stripe_emulator import StripeEmulator


@pytest.fixture(scope="session")
def stripe_emulator_server() -> Iterator[StripeEmulator]:
    """One Stripe emulator per test session (per xdist worker), with short webhook retries.

    Most tests want `stripe_emulator`, which also resets the state around each test.
    """
    # Imported here so that loading the plugin costs nothing for suites that never use it.
    from .stripe_emulator import StripeEmulator

    emulator = StripeEmulator(
        webhook_retry_backoff=0.05, webhook_max_attempts=4, webhook_timeout=2.0
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def stripe_emulator(stripe_emulator_server: StripeEmulator) -> Iterator[StripeEmulator]:
    """The session's Stripe emulator, emptied before and after the test.

    `.url` is its base URL, `.client()` a configured `stripe.StripeClient`, and the control
    helpers (`advance_clock`, `add_webhook_endpoint`, `wait_for_deliveries`, `inject_fault`,
    ...) steer it.
    """
    stripe_emulator_server.reset()
    yield stripe_emulator_server
    stripe_emulator_server.reset()


__all__ = ["stripe_emulator", "stripe_emulator_server", "vies_responder", "vies_settings"]
