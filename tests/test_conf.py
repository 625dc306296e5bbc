"""The PAYMENTS_SYNC settings object: defaults, merging, unknown keys and reloading."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_payments_sync.conf import DEFAULTS, payments_settings


def test_defaults_apply_for_keys_the_host_leaves_out() -> None:
    with override_settings(PAYMENTS_SYNC={}):
        assert payments_settings.WEBHOOK_LOCK_SCOPE == "customer"
        assert DEFAULTS["VIES"] == payments_settings.VIES


def test_nested_dicts_merge_over_their_defaults() -> None:
    with override_settings(PAYMENTS_SYNC={"VIES": {"TIMEOUT": 2}}):
        assert payments_settings.VIES["TIMEOUT"] == 2
        assert payments_settings.VIES["ADDRESS"] == DEFAULTS["VIES"]["ADDRESS"]


def test_override_settings_reloads() -> None:
    with override_settings(PAYMENTS_SYNC={"WEBHOOK_LOCK_SCOPE": "global"}):
        assert payments_settings.WEBHOOK_LOCK_SCOPE == "global"
    assert payments_settings.WEBHOOK_LOCK_SCOPE == "customer"


def test_an_unknown_key_is_an_error_that_names_it() -> None:
    with (
        override_settings(PAYMENTS_SYNC={"WEBHOK_LOCK_SCOPE": "global"}),
        pytest.raises(ImproperlyConfigured, match="WEBHOK_LOCK_SCOPE"),
    ):
        _ = payments_settings.BACKEND


def test_an_unknown_nested_key_is_named_with_its_parent() -> None:
    with override_settings(PAYMENTS_SYNC={"VIES": {"TIMOUT": 1}}):
        assert payments_settings.unknown_keys() == ["VIES.TIMOUT"]


def test_a_setting_that_is_not_a_dict_is_refused() -> None:
    with (
        override_settings(PAYMENTS_SYNC=["BACKEND"]),
        pytest.raises(ImproperlyConfigured, match="must be a dict"),
    ):
        _ = payments_settings.BACKEND


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        _ = payments_settings.NOT_A_SETTING


def test_returned_values_are_copies() -> None:
    configured = payments_settings.VIES["TIMEOUT"]
    payments_settings.VIES["TIMEOUT"] = -1
    payments_settings.reload()
    assert payments_settings.VIES["TIMEOUT"] == configured != -1


def test_options_may_hold_objects_that_cannot_be_deep_copied() -> None:
    import threading

    lock = threading.Lock()
    with override_settings(PAYMENTS_SYNC={"OPTIONS": {"api_key": "sk_test_x", "client": lock}}):
        assert payments_settings.OPTIONS["client"] is lock
