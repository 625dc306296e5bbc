"""The OpenAPI schema route works with a host's REST_FRAMEWORK defaults, and says so clearly
when drf-spectacular (the ``schema`` extra) is missing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from django_payments_sync import checks

SCHEMA_URL = "/api/payment/schema/"

#: The test project's REST_FRAMEWORK without DEFAULT_SCHEMA_CLASS: DRF's own default, as a
#: host that never heard of drf-spectacular has it.
HOST_DEFAULTS = {k: v for k, v in settings.REST_FRAMEWORK.items() if k != "DEFAULT_SCHEMA_CLASS"}


def test_the_suite_runs_with_drfs_default_schema_class() -> None:
    # The views' annotations are built at import, so this process must be a host without the
    # setting for the suite's schema tests (and test_api_reference.py) to prove the point.
    assert "DEFAULT_SCHEMA_CLASS" not in settings.REST_FRAMEWORK


def schema() -> dict[str, Any]:
    response = Client().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:2000]
    return json.loads(response.content)  # type: ignore[no-any-return]


def test_the_schema_works_with_the_hosts_default_schema_class() -> None:
    with override_settings(REST_FRAMEWORK=HOST_DEFAULTS):
        paths = schema()["paths"]
    assert "/api/payment/plans/" in paths
    assert "/api/payment/subscriptions/{id}/" in paths


def test_a_host_schema_class_of_drf_spectacular_is_kept() -> None:
    from drf_spectacular.openapi import AutoSchema

    from django_payments_sync.api.plans import PlansView

    class HostSchema(AutoSchema):
        pass

    host = {**HOST_DEFAULTS, "DEFAULT_SCHEMA_CLASS": HostSchema}
    with override_settings(REST_FRAMEWORK=host):
        assert type(PlansView().schema) is HostSchema
    with override_settings(REST_FRAMEWORK=HOST_DEFAULTS):
        assert type(PlansView().schema) is AutoSchema


def test_canceling_a_subscription_answers_the_subscription() -> None:
    # The view answers 200 with the subscription (its cancel_at_period_end and period end tell
    # the client when it ends); the schema says the same.
    responses = schema()["paths"]["/api/payment/subscriptions/{id}/"]["delete"]["responses"]
    assert set(responses) == {"200"}
    content = responses["200"]["content"]["application/json"]["schema"]
    assert content == {"$ref": "#/components/schemas/Subscription"}


def test_without_drf_spectacular_the_route_answers_a_clear_error() -> None:
    from django_payments_sync.api.schema import SchemaUnavailableView

    response = SchemaUnavailableView.as_view()(RequestFactory().get(SCHEMA_URL)).render()
    assert response.status_code == 501
    body = json.loads(response.content)
    assert body["code"] == "schema_unavailable"
    assert "django-payments-sync[schema]" in body["detail"]


@pytest.mark.django_db
def test_a_check_warns_when_the_schema_route_is_served_without_drf_spectacular(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checks, "spectacular_installed", lambda: False)
    messages = [m for m in checks.check_api() if m.id == "payments_sync.W002"]
    assert len(messages) == 1
    assert "schema" in messages[0].msg
    assert "django-payments-sync[schema]" in (messages[0].hint or "")


@pytest.mark.django_db
def test_no_schema_warning_with_drf_spectacular() -> None:
    assert [m.id for m in checks.check_api()] == []
