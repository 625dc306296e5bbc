"""Fixtures for the Paddle emulator tests: an SDK client, a catalog, a notification receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("paddle_billing")

from paddle_billing import Client
from paddle_billing.Entities.Notifications import NotificationEvent
from paddle_billing.Notifications import Secret, Verifier

from django_payments_sync.testing.paddle_emulator import PaddleEmulator
from tests.emulator.conftest import Receiver

FIXTURES = Path(__file__).parent / "fixtures" / "tests"
RESOURCES = FIXTURES / "Functional" / "Resources"
NOTIFICATION_ENTITIES = FIXTURES / "Unit" / "Entities" / "_fixtures" / "notification" / "entity"


def fixture(path: str) -> Any:
    """One of Paddle's SDK fixtures, by its path under `tests/`."""
    return json.loads((FIXTURES / path).read_text())


class SignedRequest:
    """What the SDK's Verifier reads from a request: its headers and raw body."""

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body


class PaddleReceiver(Receiver):
    """The Stripe tests' receiver, read as a Paddle notification destination."""

    @property
    def url(self) -> str:
        return f"{self.base}/webhooks/paddle/"

    def requests(self) -> list[SignedRequest]:
        with self.lock:
            rows = [r for r in self.received if r["answered"] == 200]
        return [SignedRequest(r["headers"], r["body"]) for r in rows]

    def notifications(self, secret: str) -> list[NotificationEvent]:
        """Every successfully answered delivery, verified and parsed with the SDK."""
        verifier = Verifier()
        out = []
        for request in self.requests():
            assert verifier.verify(request, Secret(secret)), request.headers
            out.append(NotificationEvent.from_request(request))
        return out

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests()]


@pytest.fixture
def receiver() -> Iterator[PaddleReceiver]:
    r = PaddleReceiver()
    yield r
    r.stop()


@pytest.fixture
def client(paddle_emulator: PaddleEmulator) -> Client:
    return paddle_emulator.client()


@pytest.fixture
def destination(paddle_emulator: PaddleEmulator, receiver: PaddleReceiver) -> dict[str, Any]:
    """A notification destination for every event type, pointing at `receiver`."""
    return paddle_emulator.add_notification_destination(receiver.url)
