"""Starting the emulator: in-process (context manager, ephemeral port) and from the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import requests
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator


def test_context_manager_binds_loopback_on_an_ephemeral_port() -> None:
    started = time.perf_counter()
    with StripeEmulator(port=0) as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.port != 0
        assert emulator.client().v1.customers.list().data == []
        url = emulator.url
    assert time.perf_counter() - started < 2
    try:
        requests.get(f"{url}/_emulator/clock", timeout=1)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the emulator still answers after stop()")


def test_two_emulators_are_independent() -> None:
    with StripeEmulator() as one, StripeEmulator() as two:
        one.client().v1.customers.create({"name": "only in one"})
        assert len(one.client().v1.customers.list().data) == 1
        assert two.client().v1.customers.list().data == []


def test_command_line_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "django_payments_sync.testing.stripe_emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ", 1)[1].split()[0]
        client = stripe.StripeClient("sk_test_cli", base_addresses={"api": url})
        assert client.v1.customers.create({"name": "cli"}).id.startswith("cus_")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
