"""Building the Stripe backend's ``stripe.StripeClient`` from its options, and checking them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured


def build_client(options: Mapping[str, Any]) -> stripe.StripeClient:
    """A client of its own: the library never sets ``stripe.api_key``/``api_base`` globally."""
    base = options["api_base"]
    return stripe.StripeClient(
        options["api_key"],
        base_addresses={"api": base.rstrip("/"), "files": base.rstrip("/")} if base else None,
        http_client=http_client(options["http_client"], options["timeout"]),
        max_network_retries=options["max_network_retries"],
    )


def http_client(value: Any, timeout: float) -> stripe.HTTPClient:
    """The SDK HTTP client: the default, an instance, or a class/dotted path to build.

    A class or dotted path (``"stripe.RequestsClient"``) is built with ``timeout=``; an
    instance is used as it is, with its own timeout.
    """
    if value is None:
        return stripe.new_default_http_client(timeout=timeout)
    if isinstance(value, stripe.HTTPClient):
        return value
    factory = import_string(value) if isinstance(value, str) else value
    if not callable(factory):
        raise PaymentsSyncImproperlyConfigured(
            "PAYMENTS_SYNC['OPTIONS']['http_client'] must be a stripe.HTTPClient, its class, "
            "or the dotted path of one."
        )
    client = factory(timeout=timeout)
    if not isinstance(client, stripe.HTTPClient):
        raise PaymentsSyncImproperlyConfigured(
            f"PAYMENTS_SYNC['OPTIONS']['http_client'] built {type(client).__name__}, "
            "not a stripe.HTTPClient."
        )
    return client


def check_stripe_options(options: Mapping[str, Any]) -> list[CheckMessage]:
    """System-check messages about the Stripe options: the key, the webhook secret."""
    messages: list[CheckMessage] = []
    api_key = options.get("api_key")
    if not api_key:
        messages.append(
            Error(
                "The Stripe backend has no API key.",
                hint="Set PAYMENTS_SYNC['OPTIONS']['api_key'] to a secret key (sk_test_... "
                "or sk_live_...) or a restricted key (rk_...).",
                id="payments_sync.E003",
            )
        )
    elif not isinstance(api_key, str) or not api_key.startswith(("sk_", "rk_")):
        messages.append(
            Error(
                "PAYMENTS_SYNC['OPTIONS']['api_key'] is not a Stripe secret key.",
                hint="Stripe secret keys start with sk_ (or rk_ for restricted keys).",
                id="payments_sync.E003",
            )
        )
    if not options.get("webhook_secret"):
        messages.append(
            Warning(
                "The Stripe backend has no webhook signing secret: webhooks will be refused.",
                hint="Run `manage.py payments_sync webhook-endpoint <site URL>` and set "
                "PAYMENTS_SYNC['OPTIONS']['webhook_secret'] to the whsec_... it prints.",
                id="payments_sync.W001",
            )
        )
    return messages
