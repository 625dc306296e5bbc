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
    # E012, not E002: E002 is an unknown backend option, a different problem.
    assert ids(BACKEND="no.such.Backend", OPTIONS=OPTIONS) == {"payments_sync.E012"}


def test_backend_that_is_not_a_backend() -> None:
    assert ids(BACKEND="django.db.models.Model", OPTIONS=OPTIONS) == {"payments_sync.E012"}


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


@pytest.mark.parametrize("country", ["de", "XX", "DEU"])
def test_invalid_seller_country(country: object) -> None:
    assert ids(OPTIONS=OPTIONS, SELLER_COUNTRY=country) == {"payments_sync.E005"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("WEBHOOK_PROCESSING", "rq"),
        ("WEBHOOK_LOCK_SCOPE", "table"),
        ("PRORATION_BEHAVIOR", "sometimes"),
        ("ENTITLEMENTS_SOURCE", "stripe"),
    ],
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


def messages_for(**payments_sync: Any) -> list[checks.CheckMessage]:
    with override_settings(PAYMENTS_SYNC=payments_sync):
        return [m for m in checks.run_checks() if m.id and m.id.startswith("payments_sync")]


@pytest.mark.parametrize(
    ("key", "value", "label"),
    [
        ("PLANS_CACHE_TIMEOUT", "ten", "PAYMENTS_SYNC['PLANS_CACHE_TIMEOUT']"),
        ("AUTO_SYNC", "no", "PAYMENTS_SYNC['AUTO_SYNC']"),
        ("CHECKOUT_SUCCESS_URL", 42, "PAYMENTS_SYNC['CHECKOUT_SUCCESS_URL']"),
        ("MAX_ACTIVE_SUBSCRIPTIONS", "one", "PAYMENTS_SYNC['MAX_ACTIVE_SUBSCRIPTIONS']"),
        ("MAX_ACTIVE_SUBSCRIPTIONS", True, "PAYMENTS_SYNC['MAX_ACTIVE_SUBSCRIPTIONS']"),
        ("WEBHOOK_REFETCH", 1, "PAYMENTS_SYNC['WEBHOOK_REFETCH']"),
        ("WEBHOOK_PROCESSING", None, "PAYMENTS_SYNC['WEBHOOK_PROCESSING']"),
        ("SELLER_COUNTRY", 49, "PAYMENTS_SYNC['SELLER_COUNTRY']"),
        ("VIES", {"TIMEOUT": "2"}, "PAYMENTS_SYNC['VIES']['TIMEOUT']"),
        ("VIES", "on", "PAYMENTS_SYNC['VIES']"),
        ("MAIL", {"ENABLED": "yes"}, "PAYMENTS_SYNC['MAIL']['ENABLED']"),
    ],
)
def test_a_value_of_the_wrong_type_is_named(key: str, value: object, label: str) -> None:
    messages = messages_for(OPTIONS=OPTIONS, **{key: value})
    assert [m.id for m in messages] == ["payments_sync.E010"]
    assert label in messages[0].msg
    leaf = next(iter(value.values())) if isinstance(value, dict) else value
    assert repr(leaf) in messages[0].msg
    assert messages[0].hint


@pytest.mark.parametrize(
    ("key", "value", "label"),
    [
        ("PLANS_CACHE_TIMEOUT", -1, "PAYMENTS_SYNC['PLANS_CACHE_TIMEOUT']"),
        ("MAX_ACTIVE_SUBSCRIPTIONS", 0, "PAYMENTS_SYNC['MAX_ACTIVE_SUBSCRIPTIONS']"),
        ("WEBHOOK_TOLERANCE", 0, "PAYMENTS_SYNC['WEBHOOK_TOLERANCE']"),
        ("WEBHOOK_MAX_BODY_SIZE", 0, "PAYMENTS_SYNC['WEBHOOK_MAX_BODY_SIZE']"),
        ("VIES", {"TIMEOUT": 0}, "PAYMENTS_SYNC['VIES']['TIMEOUT']"),
        ("VAT_RECHECK", {"BASE_DELAY": -5}, "PAYMENTS_SYNC['VAT_RECHECK']['BASE_DELAY']"),
    ],
)
def test_a_value_out_of_range_is_named(key: str, value: object, label: str) -> None:
    messages = messages_for(OPTIONS=OPTIONS, **{key: value})
    assert [m.id for m in messages] == ["payments_sync.E011"]
    assert label in messages[0].msg
    assert messages[0].hint


def test_values_of_the_right_type_pass() -> None:
    assert (
        ids(
            OPTIONS=OPTIONS,
            MAX_ACTIVE_SUBSCRIPTIONS=None,
            PLANS_CACHE_TIMEOUT=0,
            WEBHOOK_TOLERANCE=60.5,
            CHECKOUT_SUCCESS_URL="/welcome/",
            VIES={"TIMEOUT": 2, "ENABLED": False},
            MAIL={"FROM_EMAIL": "billing@example.com"},
        )
        == set()
    )


def test_the_table_of_expected_values_covers_every_setting_and_its_default() -> None:
    from django_payments_sync.conf import DEFAULTS, EXPECTED, NESTED_KEYS

    keys = set(DEFAULTS) | {f"{k}.{sub}" for k in NESTED_KEYS for sub in DEFAULTS[k]}
    assert set(EXPECTED) == keys
    for key, expected in EXPECTED.items():
        default: Any = DEFAULTS
        for part in key.split("."):
            default = default[part]
        assert expected.type_ok(default), key
        assert expected.value_ok(default), key


def test_rest_framework_missing_from_installed_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    from django_payments_sync import checks as our_checks

    installed = our_checks.django_apps.is_installed
    monkeypatch.setattr(
        our_checks.django_apps,
        "is_installed",
        lambda name: name != "rest_framework" and installed(name),
    )
    messages = [m for m in our_checks.check_installed_apps() if m.id == "payments_sync.E013"]
    assert len(messages) == 1
    assert "rest_framework" in messages[0].msg


def test_a_swapped_model_that_is_not_installed_is_reported_by_manage_py_check(
    tmp_path: Any,
) -> None:
    """E008 comes from `manage.py check`, not a traceback from the app's ready()."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "e008_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        "PAYMENTS_SYNC_PRODUCT_MODEL = 'nowhere.Product'\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)]),
        "DJANGO_SETTINGS_MODULE": "e008_settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "(payments_sync.E008) PAYMENTS_SYNC_PRODUCT_MODEL = 'nowhere.Product'" in result.stderr
