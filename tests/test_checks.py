"""System checks fire on each misconfiguration, with stable ids."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings

# Django's own model checks may ask the database about its features (JSONField on SQLite).
pytestmark = pytest.mark.django_db

OPTIONS = {"api_key": "sk_test_x", "webhook_secret": "whsec_x"}


def ids(**payments_sync: Any) -> set[str]:
    with override_settings(PAYMENTS_SYNC=payments_sync):
        return {m.id for m in checks.run_checks() if m.id and m.id.startswith("payments_sync")}


def test_a_complete_configuration_passes() -> None:
    assert ids(OPTIONS=OPTIONS, SELLER_COUNTRY="DE") == set()


def test_unknown_key() -> None:
    assert ids(OPTIONS=OPTIONS, SELER_COUNTRY="DE") == {"payments_sync.E001"}


def test_backend_that_does_not_import() -> None:
    assert ids(BACKEND="no.such.Backend", OPTIONS=OPTIONS) == {"payments_sync.E002"}


def test_backend_that_is_not_a_backend() -> None:
    assert ids(BACKEND="django.db.models.Model", OPTIONS=OPTIONS) == {"payments_sync.E002"}


def test_unknown_backend_option() -> None:
    assert ids(OPTIONS={**OPTIONS, "apikey": "x"}) == {"payments_sync.E002"}


@pytest.mark.parametrize("options", [{}, {"api_key": ""}, {"api_key": "pk_test_public"}])
def test_missing_or_wrong_api_key(options: dict[str, str]) -> None:
    assert "payments_sync.E003" in ids(OPTIONS={**options, "webhook_secret": "whsec_x"})


def test_missing_webhook_secret_is_a_warning() -> None:
    with override_settings(PAYMENTS_SYNC={"OPTIONS": {"api_key": "sk_test_x"}}):
        messages = [m for m in checks.run_checks() if m.id == "payments_sync.W001"]
    assert len(messages) == 1
    assert messages[0].level == checks.WARNING
    assert "webhook-endpoint" in (messages[0].hint or "")


@pytest.mark.parametrize("country", ["de", "XX", "DEU", 49])
def test_invalid_seller_country(country: object) -> None:
    assert ids(OPTIONS=OPTIONS, SELLER_COUNTRY=country) == {"payments_sync.E005"}


@pytest.mark.parametrize(
    ("key", "value"), [("WEBHOOK_PROCESSING", "celery"), ("WEBHOOK_LOCK_SCOPE", "table")]
)
def test_invalid_choice(key: str, value: str) -> None:
    assert ids(OPTIONS=OPTIONS, **{key: value}) == {"payments_sync.E006"}


def test_adapter_that_does_not_import() -> None:
    assert ids(OPTIONS=OPTIONS, ADAPTER="no.such.Adapter") == {"payments_sync.E007"}


def swapped_model_ids(label: str) -> set[str]:
    # Only our check: Django's model checks would build relation caches while the setting
    # names another model, and those caches outlive the override.
    from django_payments_sync.checks import check_swapped_models

    with override_settings(PAYMENTS_SYNC_PRODUCT_MODEL=label):
        return {m.id for m in check_swapped_models() if m.id}


def test_swapped_product_model_that_is_not_installed() -> None:
    assert swapped_model_ids("nowhere.Product") == {"payments_sync.E008"}


def test_swapped_product_model_that_does_not_subclass_the_base() -> None:
    assert swapped_model_ids("testapp.NotAProduct") == {"payments_sync.E009"}


def test_swapped_product_model_that_subclasses_the_base_passes() -> None:
    assert swapped_model_ids("testapp.CustomProduct") == set()
