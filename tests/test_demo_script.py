"""``scripts/demo``: a bad port or provider is refused before anything starts or is deleted, and
the journey passes on Paddle (``--provider paddle --check``; Stripe's runs in CI, .ci/run)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("port", ["abc", "0", "99999", "80a"])
def test_a_port_that_is_no_port_is_refused_as_such(port: str) -> None:
    done = subprocess.run(
        ["bash", str(DEMO), "--port", port], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "needs a port number (1-65535)" in done.stderr
    assert "in use" not in done.stderr


@pytest.mark.parametrize("provider", ["adyen", "", "Paddle "])
def test_a_provider_other_than_stripe_or_paddle_is_refused(provider: str) -> None:
    done = subprocess.run(
        ["bash", str(DEMO), "--provider", provider, "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"--provider must be stripe or paddle, not '{provider}'" in done.stderr
    assert "Starting" not in done.stdout


def test_a_provider_option_without_its_value_says_so() -> None:
    done = subprocess.run(
        ["bash", str(DEMO), "--provider"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (2, "demo: --provider needs stripe or paddle\n")


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("PAYMENTS_SYNC_TEST_DATABASE", "sqlite") != "sqlite",
    reason="the demo has its own SQLite database: its journey runs once, with the SQLite suite",
)
def test_the_demo_journey_passes_on_the_paddle_emulator() -> None:
    """``scripts/demo --provider paddle --check``: the Paddle emulator, the Paddle backend and the
    whole journey (VAT, checkout on the hosted page, paid, active, plan change, cancel), with
    the money features Paddle's backend lacks (discounts, meters) hidden and /sso/ gated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "STRIPE_"))}
    done = subprocess.run(
        ["bash", str(DEMO), "--provider", "paddle", "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Starting the Paddle emulator" in done.stdout
    assert "Stripe emulator" not in done.stdout
    assert "Registered http://127.0.0.1:" in done.stdout
    assert "/api/payment/paddle/webhook/" in done.stdout
    for step in (
        "billing details",
        "declined card",
        "payment",
        "webhooks: subscription active",
        "promotion code",
        "order paid",
        "usage meter",
        "feature gate: /sso/",
        "change plan",
        "webhooks: plan change",
        "feature gate: /sso/ on Business",
        "portal: cancel",
        "webhooks: cancellation",
        "admin: webhook event log",
    ):
        assert re.search(rf"PASS  {re.escape(step)} ", done.stdout), step
    assert "FAIL" not in done.stdout
    # What Paddle's backend lacks is hidden, not an error.
    assert "the provider has no discounts: the pricing page asks for no code" in done.stdout
    assert "the provider has no meters: the account page shows no usage" in done.stdout
    assert re.search(r"Journey complete: 21 steps", done.stdout)


def test_a_live_paddle_key_is_refused_before_anything_is_created() -> None:
    """Paddle's sandbox only: the demo creates products and charges cards (no request is made)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "STRIPE_"))}
    env["PADDLE_API_KEY"] = "pdl_live_apikey_01example"
    done = subprocess.run(
        ["bash", str(DEMO), "--provider", "paddle", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PADDLE_API_KEY must be a Paddle sandbox key (pdl_sdbx_...)" in done.stderr
    assert "Migrating" not in done.stdout
