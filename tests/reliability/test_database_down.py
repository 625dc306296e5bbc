"""The database fails while a webhook arrives (PostgreSQL): the endpoint answers a 5xx so the
provider delivers again, nothing is half-written, and the redelivery is applied."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.testing.webhooks import (
    sign_stripe_payload,
    stripe_event,
    stripe_subscription,
)
from tests.factories import PricingFactory, UserFactory
from tests.reliability.servers import dsn, gunicorn
from tests.security.conftest import stored_state
from tests.webhooks.conftest import SECRET, no_autosync
from tests.webhooks.test_concurrency import post

__all__ = ["no_autosync"]

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOCK_TIMEOUT_MS = 500


@pytest.fixture
def server() -> Iterator[str]:
    """One gunicorn worker (so the terminated connection is the one it uses next) whose
    database sessions give up on a lock after LOCK_TIMEOUT_MS."""
    with gunicorn(SECRET, workers=1, PAYMENTS_SYNC_TEST_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS)) as (
        _process,
        url,
    ):
        yield url


@pytest.fixture
def linked() -> Customer:
    owner = UserFactory(username="db-down", email="db-down@example.com")
    customer = Customer.objects.get(owner=owner)
    ExternalCustomer.objects.create(provider="stripe", external_id="cus_DB", customer=customer)
    pricing = PricingFactory(amount=1500, interval="month")
    ExternalPricing.objects.create(provider="stripe", external_id="price_DB", pricing=pricing)
    return customer


def subscribed(quantity: int) -> dict[str, Any]:
    sub = stripe_subscription(
        "sub_DB", customer="cus_DB", price="price_DB", status="active", quantity=quantity
    )
    return stripe_event("customer.subscription.created", sub)


def post_raw(url: str, event: dict[str, Any]) -> tuple[int, str]:
    """POST a signed event; the status and the body as text (an error page is not JSON)."""
    body, headers = sign_stripe_payload(event, SECRET)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def assert_retryable_error(answer: tuple[int, str]) -> None:
    status, text = answer
    assert status == 503, answer
    assert "Traceback" not in text
    assert json.loads(text)["error"] == "temporarily unavailable"


def other_backends(conn: psycopg.Connection) -> list[int]:
    """The database sessions of the server (not this test's own two)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid NOT IN (pg_backend_pid(), %s)",
        [mine],
    ).fetchall()
    return [row[0] for row in rows]


def test_a_terminated_connection_answers_5xx_and_the_redelivery_applies(
    server: str, linked: Customer
) -> None:
    warm = stripe_event("customer.updated", {"id": "cus_DB", "object": "customer"})
    assert post(server, warm)[0] == 200  # the worker now holds a persistent connection
    event = subscribed(quantity=2)
    with psycopg.connect(dsn(), autocommit=True) as admin:
        sessions = other_backends(admin)
        assert sessions
        for pid in sessions:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    before = stored_state()

    assert_retryable_error(post_raw(server, event))
    assert stored_state() == before
    # The provider delivers again: a new connection, and the event is applied once.
    status, body = post(server, event)
    assert (status, body["duplicate"], body["status"]) == (200, False, "processed")
    assert Subscription.objects.get().quantity == 2


def test_a_locked_event_table_answers_5xx_and_stores_nothing(server: str, linked: Customer) -> None:
    event = subscribed(quantity=3)
    before = stored_state()
    with psycopg.connect(dsn()) as blocker:
        blocker.execute(f"LOCK TABLE {WebhookEvent._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        answer = post_raw(server, event)
        blocker.rollback()

    assert_retryable_error(answer)
    assert stored_state() == before
    status, body = post(server, event)
    assert (status, body["status"]) == (200, "processed")
    assert Subscription.objects.get().quantity == 3


def test_a_lock_timeout_mid_processing_rolls_back_and_the_redelivery_applies(
    server: str, linked: Customer
) -> None:
    event = subscribed(quantity=4)
    with psycopg.connect(dsn()) as blocker:
        blocker.execute(f"LOCK TABLE {Subscription._meta.db_table} IN EXCLUSIVE MODE")
        status, body = post(server, event)
        blocker.rollback()

    # Stored (it was verified), not applied: no subscription row, the event marked failed.
    assert (status, body["status"]) == (500, "failed")
    assert not Subscription.objects.exists()
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "lock timeout" in row.last_error
    status, body = post(server, event)
    assert (status, body["duplicate"], body["status"]) == (200, True, "processed")
    assert Subscription.objects.get().quantity == 4
