"""The library on a live server, talking to the Stripe emulator, which posts its webhooks back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import override_settings

from django_payments_sync.testing.stripe_emulator import DEFAULT_API_KEY


@contextmanager
def emulated_site(stripe_emulator: Any, live_server: Any, **settings: Any) -> Iterator[Any]:
    """Register the live server's webhook endpoint at the emulator and configure the library.

    ``settings`` are added to ``PAYMENTS_SYNC``. Deliveries are paused until the test flushes
    them: on SQLite the live server and the test share one in-memory connection, which two
    threads must not use at once.
    """
    endpoint = stripe_emulator.add_webhook_endpoint(
        f"{live_server.url}/api/payment/stripe/webhook/"
    )
    config = {
        "BACKEND": "django_payments_sync.backends.stripe.StripeBackend",
        "OPTIONS": {
            "api_key": DEFAULT_API_KEY,
            "api_base": stripe_emulator.url,
            "webhook_secret": endpoint["secret"],
            "max_network_retries": 0,
        },
        "SELLER_COUNTRY": "DE",
        **settings,
    }
    stripe_emulator.pause_deliveries()
    try:
        with override_settings(PAYMENTS_SYNC=config):
            yield stripe_emulator
    finally:
        stripe_emulator.resume_deliveries()


@contextmanager
def paddle_site(paddle_emulator: Any, live_server: Any, **settings: Any) -> Iterator[Any]:
    """The same for Paddle: the live server's ``paddle/webhook/`` is a notification destination
    of the Paddle emulator, and the library's backend is the Paddle backend talking to it."""
    from django_payments_sync.testing.paddle_emulator import DEFAULT_API_KEY as PADDLE_KEY

    destination = paddle_emulator.add_notification_destination(
        f"{live_server.url}/api/payment/paddle/webhook/"
    )
    config = {
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {
            "api_key": PADDLE_KEY,
            "api_base": paddle_emulator.url,
            "webhook_secret": destination["endpoint_secret_key"],
            "max_retries": 0,
        },
        "SELLER_COUNTRY": "DE",
        **settings,
    }
    paddle_emulator.pause_deliveries()
    try:
        with override_settings(PAYMENTS_SYNC=config):
            yield paddle_emulator
    finally:
        paddle_emulator.resume_deliveries()
