"""Helpers for tests against the Stripe emulator: a backend pointed at it that logs its requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import stripe

from django_payments_sync.backends.stripe import StripeBackend

API_KEY = "sk_test_payments_sync_tests"
WEBHOOK_SECRET = "whsec_payments_sync_contract"


class RecordingHTTPClient(stripe.RequestsClient):
    """The SDK's own requests-based client, keeping ``(method, path)`` of each HTTP attempt.

    Retries are separate attempts, so this counts what the provider's rate limit counts.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log: list[tuple[str, str]] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> RecordingHTTPClient:
        # The settings layer deep-copies OPTIONS; the copy must keep counting into this log.
        return self

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:  # type: ignore[override]
        self.log.append((method.upper(), urlsplit(url).path))
        return super().request(method, url, headers, post_data)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [entry for entry in self.log if entry[0] != "GET"]

    def clear(self) -> None:
        self.log.clear()


def emulator_options(url: str, **overrides: Any) -> dict[str, Any]:
    """``PAYMENTS_SYNC["OPTIONS"]`` for a Stripe backend talking to the emulator at ``url``."""
    return {
        "api_key": API_KEY,
        "api_base": url,
        "webhook_secret": WEBHOOK_SECRET,
        "timeout": 5.0,
        "max_network_retries": 2,
        **overrides,
    }


def emulator_backend(url: str, **overrides: Any) -> StripeBackend:
    options = emulator_options(url, **overrides)
    options.setdefault("http_client", RecordingHTTPClient(timeout=options["timeout"]))
    return StripeBackend(**options)
