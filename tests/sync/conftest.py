"""Fixtures of the sync tests: the configured provider, locmem or Stripe through the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.exceptions import TransientProviderError
from tests.backends.helpers import RecordingHTTPClient, emulator_options

#: Which locmem operation a Stripe route stands for, to inject the same failure in both.
ROUTES = {
    "create_product": "POST /v1/products",
    "update_product": "POST /v1/products/*",
    "create_price": "POST /v1/prices",
    "archive_price": "POST /v1/prices/*",
    "update_price_metadata": "POST /v1/prices/*",
    "create_customer": "POST /v1/customers",
    "update_customer": "POST /v1/customers/*",
    "delete_customer": "DELETE /v1/customers/*",
    "add_tax_id": "POST /v1/customers/*/tax_ids",
    "cancel_subscription": "DELETE /v1/subscriptions/*",
}


@dataclass
class Provider:
    """The configured backend, with what the tests ask of any provider: counts and faults."""

    name: str
    backend: BaseBackend
    emulator: Any = None

    def calls(self) -> list[tuple[str, str]]:
        if isinstance(self.backend, LocmemBackend):
            return [("write" if c.is_write else "read", c.operation) for c in self.backend.calls]
        log: RecordingHTTPClient = self.backend.options["http_client"]
        return [("read" if m == "GET" else "write", f"{m} {p}") for m, p in log.log]

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls() if c[0] == "write"]

    def clear(self) -> None:
        if isinstance(self.backend, LocmemBackend):
            self.backend.calls.clear()
        else:
            self.backend.options["http_client"].clear()

    def fail_next(self, operation: str, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` fail with a transient provider error."""
        if isinstance(self.backend, LocmemBackend):
            self.backend.fail_next(operation, TransientProviderError("injected"), times)
        else:
            self.emulator.inject_fault(ROUTES[operation], "500", count=times)

    def products(self) -> list[Any]:
        return list(self.backend.list_products())

    def prices(self) -> list[Any]:
        return list(self.backend.list_prices())

    def customers(self) -> list[Any]:
        return list(self.backend.list_customers())


def _locmem(settings: Any) -> Provider:
    settings.PAYMENTS_SYNC = {"BACKEND": "django_payments_sync.backends.locmem.LocmemBackend"}
    return Provider("locmem", get_backend())


def _stripe(settings: Any, emulator: Any) -> Provider:
    # No SDK retries: an injected failure reaches the sync service as it is.
    options = emulator_options(emulator.url, max_network_retries=0)
    options["http_client"] = RecordingHTTPClient(timeout=options["timeout"])
    settings.PAYMENTS_SYNC = {"OPTIONS": options}
    return Provider("stripe", get_backend(), emulator)


@pytest.fixture(params=["locmem", "stripe"])
def provider(request: pytest.FixtureRequest, settings: Any, db: None) -> Iterator[Provider]:
    """Each test runs once against locmem and once against Stripe (the emulator, over HTTP)."""
    if request.param == "locmem":
        yield _locmem(settings)
    else:
        yield _stripe(settings, request.getfixturevalue("stripe_emulator"))


@pytest.fixture
def locmem(settings: Any, db: None) -> Provider:
    return _locmem(settings)


@pytest.fixture
def stripe_provider(settings: Any, db: None, stripe_emulator: Any) -> Provider:
    return _stripe(settings, stripe_emulator)
