"""The API under schemathesis, driven by our own OpenAPI schema: no 5xx, and every response of a
documented status matches its schema, for valid and for invalid requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from django_payments_sync.models import BillingInformation, Customer
from tests.factories import OrderFactory, PricingFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SCHEMA_URL = "/api/payment/schema/"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
MAX_EXAMPLES = 25


@pytest.fixture
def shop(locmem: Any) -> Iterator[dict[str, Any]]:
    """A logged-in customer with billing data, a subscription and an order; the in-memory
    provider; VIES at the local responder. Yields the cookies and headers of its session."""
    # The WSGI app runs in this thread, inside the test's transaction: like Django's test
    # client, keep the request signals from closing the connection under it.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        user = UserFactory(username="fuzzer")
        customer = Customer.objects.get_or_create(owner=user, defaults={"email": user.email})[0]
        BillingInformation.objects.create(
            customer=customer, name="Fuzz", email="fuzz@example.com", country="FR"
        )
        pricing = PricingFactory(amount=1500, interval="month", max_quantity=10)
        SubscriptionFactory(customer=customer, pricing=pricing, status="active")
        OrderFactory(customer=customer, pricing=pricing)
        client = Client()
        client.force_login(user)
        csrf = get_random_string(32)
        yield {
            "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
            "headers": {"X-CSRFToken": csrf, "Referer": "http://localhost/"},
        }
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def operations() -> list[Any]:
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, get_wsgi_application())
    results: list[Any] = list(schema.get_all_operations())
    return [result.ok() for result in results]


def test_the_schema_describes_every_endpoint() -> None:
    labels = {op.label for op in operations()}
    assert {
        "GET /api/payment/billing/",
        "PUT /api/payment/billing/",
        "POST /api/payment/checkout/",
        "GET /api/payment/plans/",
        "PATCH /api/payment/subscriptions/{id}/",
        "POST /api/payment/orders/{id}/cancel/",
    } <= labels, labels


def fuzz(operation: Any, mode: GenerationMode, session: dict[str, Any], ok: set[str]) -> None:
    """Send up to MAX_EXAMPLES generated requests to one operation and check each answer."""

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(cookies=session["cookies"], headers=session["headers"])
        if response.status_code < 300:
            ok.add(operation.label)
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_under_schemathesis(shop: dict[str, Any], mode: GenerationMode) -> None:
    failures: list[str] = []
    succeeded: set[str] = set()
    for operation in operations():
        try:
            fuzz(operation, mode, shop, succeeded)
        except Unsatisfiable:
            # Nothing about this operation can be sent wrong (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, then all
            failures.append(f"{operation.label}: {str(exc)[:400]}")
    assert failures == [], "\n\n".join(failures)
    if mode is GenerationMode.POSITIVE:
        # The session and the CSRF token work: requests did reach the views, reads and writes.
        assert {
            "GET /api/payment/billing/",
            "PATCH /api/payment/billing/",
            "GET /api/payment/subscriptions/",
            "GET /api/payment/orders/",
            "POST /api/payment/billing/portal/",
        } <= succeeded, succeeded
