"""Task mode: the endpoint stores and answers at once; tasks apply events with the same ordering."""

from __future__ import annotations

import importlib

import pytest

from django_payments_sync.models import Subscription, WebhookEvent
from django_payments_sync.testing.webhooks import stripe_event, stripe_subscription
from django_payments_sync.webhooks.tasks import TASKS_FRAMEWORK

if TASKS_FRAMEWORK is None:
    pytest.skip("no tasks framework installed", allow_module_level=True)

pytestmark = pytest.mark.django_db

T0 = 1_760_000_000


@pytest.fixture
def task_mode(settings):
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "WEBHOOK_PROCESSING": "task"}


def events():
    def sub(event_type, status, created):
        obj = stripe_subscription("sub_T", customer="cus_T", price="price_T", status=status)
        return stripe_event(event_type, obj, created=created)

    return [
        sub("customer.subscription.created", "incomplete", T0),
        sub("customer.subscription.updated", "active", T0 + 5),
        sub("customer.subscription.updated", "past_due", T0 + 9),
    ]


def test_task_mode_stores_answers_and_enqueues(
    settings,
    task_mode,
    post_event,
    linked_customer,
    linked_pricing,
    django_capture_on_commit_callbacks,
):
    settings.TASKS = {"default": {"BACKEND": f"{TASKS_FRAMEWORK}.backends.dummy.DummyBackend"}}
    default_task_backend = importlib.import_module(TASKS_FRAMEWORK).default_task_backend
    linked_customer("cus_T")
    linked_pricing("price_T")
    stream = events()
    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_event(e) for e in reversed(stream)]
        responses.append(post_event(stream[0]))  # a duplicate is not enqueued again
    assert [r.status_code for r in responses] == [200] * 4
    assert [r.json()["status"] for r in responses[:3]] == ["queued"] * 3
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}
    assert not Subscription.objects.exists()
    results = list(default_task_backend.results)
    assert [r.task.name for r in results] == ["process_webhook_event"] * 3
    # The first task to run applies every older event of its key first, oldest first.
    results[0].task.call(*results[0].args)
    assert Subscription.objects.get().status == "past_due"
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    for result in results[1:]:
        assert result.task.call(*result.args) == "processed"


def test_task_mode_with_the_immediate_backend(
    settings,
    task_mode,
    post_event,
    linked_customer,
    linked_pricing,
    django_capture_on_commit_callbacks,
):
    settings.TASKS = {
        "default": {"BACKEND": f"{TASKS_FRAMEWORK}.backends.immediate.ImmediateBackend"}
    }
    linked_customer("cus_T")
    linked_pricing("price_T")
    stream = events()
    with django_capture_on_commit_callbacks(execute=True):
        for event in (stream[1], stream[2], stream[0]):
            assert post_event(event).status_code == 200
    assert Subscription.objects.get().status == "past_due"
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


@pytest.mark.django_db(transaction=True)
def test_task_mode_stores_in_one_statement_without_a_transaction(settings, task_mode, post_event):
    """Outside any transaction the endpoint's store is one INSERT in autocommit: no BEGIN and
    COMMIT around it (two round trips fewer), and a duplicate's failed INSERT breaks nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor == "mysql":
        pytest.skip("MySQL/MariaDB logs its session statements beside the INSERT")
    settings.TASKS = {"default": {"BACKEND": f"{TASKS_FRAMEWORK}.backends.dummy.DummyBackend"}}
    event = events()[0]
    with CaptureQueriesContext(connection) as captured:
        assert post_event(event).json()["status"] == "queued"
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) == 1, sql
    assert sql[0].startswith("INSERT"), sql
    with CaptureQueriesContext(connection) as captured:
        answer = post_event(event).json()
    assert answer["duplicate"] is True
    sql = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in sql] == ["INSERT", "SELECT"], sql
    assert WebhookEvent.objects.count() == 1
