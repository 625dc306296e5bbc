"""Fixtures of the security tests: signed webhook posting and a dump of every stored row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.locmem import LocmemBackend
from tests.checkout.conftest import LOCMEM_SETTINGS
from tests.webhooks.conftest import (
    linked_customer,
    linked_pricing,
    no_autosync,
    post_event,
    webhook_url,
)

__all__ = [
    "linked_customer",
    "linked_pricing",
    "locmem",
    "no_autosync",
    "post_event",
    "stored_state",
    "webhook_url",
]


@pytest.fixture
def locmem(vies_responder: Any) -> Iterator[LocmemBackend]:
    """The in-memory provider, empty, and VIES at the local responder: nothing leaves the host."""
    config = {
        **LOCMEM_SETTINGS,
        "VIES": {"ENABLED": True, "ADDRESS": vies_responder.url, "TIMEOUT": 1.0},
    }
    with override_settings(PAYMENTS_SYNC=config):
        backend = get_backend()
        assert isinstance(backend, LocmemBackend)
        backend.reset()
        cache.clear()  # the plan catalog and the throttles
        yield backend
        cache.clear()


def stored_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of the library's tables and of the users, by model: "nothing changed" is
    ``stored_state()`` before == after."""
    models = [*apps.get_app_config("django_payments_sync").get_models(), get_user_model()]
    return {
        model._meta.label: [
            {k: v for k, v in row.items() if k not in ("last_login",)}
            for row in model._default_manager.order_by("pk").values()
        ]
        for model in models
    }
