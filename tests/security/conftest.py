"""Fixtures of the security tests: signed webhook posting and a dump of every stored row."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model

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
    "no_autosync",
    "post_event",
    "stored_state",
    "webhook_url",
]


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
