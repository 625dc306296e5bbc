"""Fixtures of the reliability tests: the Stripe backend on the emulator with a short timeout."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from django_payments_sync.testing.stripe_emulator import StripeEmulator
from tests.backends.helpers import emulator_options

#: The client's timeout, and a delay the emulator injects that outlasts it. The timeout leaves
#: ordinary requests (about 1 ms) room on a loaded machine, so only injected delays time out.
CLIENT_TIMEOUT = 1.0
PAST_TIMEOUT = 1.5
WEBHOOK_URL = "/api/payment/stripe/webhook/"


@pytest.fixture
def faulty_stripe(stripe_emulator: StripeEmulator, db: None) -> Iterator[StripeEmulator]:
    """The Stripe backend on the emulator: no SDK retries (each fault reaches the library)
    and a timeout that an injected ``delay`` of :data:`PAST_TIMEOUT` seconds outlasts."""
    options = emulator_options(stripe_emulator.url, timeout=CLIENT_TIMEOUT, max_network_retries=0)
    config = {"OPTIONS": options, "SELLER_COUNTRY": "DE", "AUTO_SYNC": True}
    cache.clear()
    with override_settings(PAYMENTS_SYNC=config):
        yield stripe_emulator
    cache.clear()


def payments_sync(*args: str) -> tuple[int, str, str]:
    """Run ``manage.py payments_sync *args``: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("payments_sync", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def deliver(emulator: StripeEmulator, secret: str) -> list[Any]:
    """Post the emulator's events not stored yet to our endpoint, in order, each signed as the
    emulator signs it; the responses."""
    from django.test import Client

    from django_payments_sync.models import WebhookEvent

    done = set(WebhookEvent.objects.values_list("event_id", flat=True))
    client = Client()
    responses = []
    for event in emulator.events():
        if event["id"] in done:
            continue
        body, signature = emulator.signed_payload(event["id"], secret)
        responses.append(
            client.post(
                WEBHOOK_URL,
                data=body,
                content_type="application/json",
                headers={"Stripe-Signature": signature},
            )
        )
    return responses


def remote(emulator: StripeEmulator, kind: str) -> list[dict[str, Any]]:
    """The emulator's own objects of one kind (``"product"``, ``"customer"``, ...)."""
    return list(emulator.state()["objects"].get(kind, []))
