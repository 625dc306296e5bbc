"""Fixtures for the emulator tests: an SDK client and a local webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator


class Receiver:
    """A tiny webhook endpoint that records what it gets and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.visits: list[str] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                # Lets a receiver stand in for a shop's success or cancel page.
                with receiver.lock:
                    receiver.visits.append(self.path)
                body = b"shop page"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                    receiver.received.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "answered": 500 if failing else 200,
                        }
                    )
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.daemon = True
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/webhooks/stripe/"

    def events(self, secret: str) -> list[stripe.Event]:
        """Every successfully answered delivery, verified with the SDK."""
        with self.lock:
            rows = [r for r in self.received if r["answered"] == 200]
        return [
            stripe.Webhook.construct_event(r["body"], r["headers"]["Stripe-Signature"], secret)
            for r in rows
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def client(stripe_emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe_emulator.client()


@pytest.fixture
def endpoint(stripe_emulator: StripeEmulator, receiver: Receiver) -> dict[str, Any]:
    """A webhook endpoint for every event, pointing at `receiver`."""
    return stripe_emulator.add_webhook_endpoint(receiver.url, ["*"])
