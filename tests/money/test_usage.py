"""Usage-based billing: record_usage into the outbox, sent in order exactly once; with the
in-memory provider, and against the Stripe emulator through an outage (500s, and answers lost
after the event was counted) — every unit arrives once."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_payments_sync.exceptions import PolicyViolation, TransientProviderError
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.usage import send_usage
from django_payments_sync.models import ExternalCustomer, ExternalMeter, Meter, UsageEvent
from tests.emulated import emulated_site

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def locmem() -> Iterator[Any]:
    """The in-memory provider, with the outbox drained by the test (no task enqueued)."""
    from django.test import override_settings

    from django_payments_sync.backends import get_backend
    from tests.checkout.conftest import LOCMEM_SETTINGS

    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "USAGE": {"ENQUEUE": False}}):
        backend = get_backend()
        backend.reset()
        yield backend


@pytest.fixture
def api_calls(db: None) -> Meter:
    return Meter.objects.create(display_name="API calls", event_name="api_calls")


def test_record_is_one_insert_and_idempotent(user: Any, locmem: Any, api_calls: Meter) -> None:
    payments.get_customer(user)
    with CaptureQueriesContext(connection) as queries:
        first = payments.record_usage(user, "api_calls", 5, identifier="req-1")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert not locmem.calls_to("send_meter_event")  # nothing on the request path
    again = payments.record_usage(user, api_calls, 5, identifier="req-1")
    assert again.pk == first.pk
    with pytest.raises(PolicyViolation) as conflict:
        payments.record_usage(user, api_calls, 6, identifier="req-1")
    assert conflict.value.code == "usage_conflict"
    assert UsageEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("nope", 1), "meter_unknown"),
        (("api_calls", -1), "usage_quantity"),
        (("api_calls", 1.5), "usage_quantity"),
        (("api_calls", True), "usage_quantity"),
        (("api_calls", 1, dt.datetime(2026, 1, 1)), "usage_timestamp"),
        (("api_calls", 1, None, ""), "usage_identifier"),
    ],
)
def test_bad_usage_is_refused(
    user: Any, api_calls: Meter, args: tuple[Any, ...], code: str
) -> None:
    with pytest.raises(PolicyViolation) as refused:
        payments.record_usage(user, *args)
    assert refused.value.code == code
    assert not UsageEvent.objects.exists()


def test_the_outbox_drains_in_order_through_an_outage(
    user: Any, locmem: Any, api_calls: Meter
) -> None:
    for n in range(10):
        payments.record_usage(user, "api_calls", n + 1, identifier=f"e{n}")
    locmem.fail_next("send_meter_event", TransientProviderError("down"), times=1)
    first = send_usage(limit=4)
    assert first.counts == {"sent": 0, "failed": 0, "pending": 10}
    assert "down" in first.error
    assert send_usage(limit=4).counts == {"sent": 4, "failed": 0, "pending": 6}
    assert send_usage().counts == {"sent": 6, "failed": 0, "pending": 0}
    sent = [c.args[0].identifier for c in locmem.calls_to("send_meter_event")]
    assert sent == ["e0"] + [f"e{n}" for n in range(10)]  # in order; e0 tried twice
    customer = ExternalCustomer.objects.get().external_id
    assert locmem.meter_total("api_calls", customer) == sum(range(1, 11))
    assert ExternalMeter.objects.get().meter == api_calls  # pushed on first need


def test_usage_so_far_and_the_api(api: Any, user: Any, locmem: Any, api_calls: Meter) -> None:
    seats = Meter.objects.create(display_name="Seats", event_name="seats", aggregation="last")
    payments.record_usage(user, api_calls, 3)
    payments.record_usage(user, api_calls, 4)
    payments.record_usage(user, seats, 7, timestamp=timezone.now() - dt.timedelta(minutes=5))
    payments.record_usage(user, seats, 2)
    old = timezone.now().replace(day=1) - dt.timedelta(days=1)
    payments.record_usage(user, api_calls, 100, timestamp=old)  # last month: not so far
    answer = api.get("/api/payment/usage/").json()
    assert [(u["meter"], u["value"], u["pending"]) for u in answer] == [
        ("api_calls", 7, 2),
        ("seats", 2, 2),
    ]
    send_usage()
    assert api.get("/api/payment/usage/").json()[0]["pending"] == 0


def test_each_record_enqueues_the_send_task(django_user_model: Any, api_calls: Meter) -> None:
    """With ENQUEUE (the default) the task runs after the commit (the tests' immediate task
    backend runs it at once): the event is at the provider."""
    from django.test import override_settings

    from django_payments_sync.backends import get_backend
    from tests.checkout.conftest import LOCMEM_SETTINGS

    with override_settings(PAYMENTS_SYNC=LOCMEM_SETTINGS):
        backend = get_backend()
        backend.reset()
        ExternalMeter.objects.all().delete()  # the reset forgot the meter its save pushed
        user = django_user_model.objects.create_user("queued", "queued@example.com")
        payments.record_usage(user, api_calls, 9, identifier="queued")
        assert UsageEvent.objects.get().status == "sent"
        assert [c.args[0].identifier for c in backend.calls_to("send_meter_event")] == ["queued"]


def test_the_command(user: Any, locmem: Any, api_calls: Meter) -> None:
    payments.record_usage(user, api_calls, 2)
    out = StringIO()
    call_command("payments_sync", "usage", "send", stdout=out)
    assert "1 sent, 0 refused, 0 pending" in out.getvalue()


def test_a_backend_without_meters_refuses_usage_and_loses_none(
    user: Any, api_calls: Meter, paddle_emulator: Any
) -> None:
    """Paddle has no usage meters: record_usage refuses at once (nothing recorded), and usage
    recorded before the switch to such a backend stays pending: send and the command refuse
    clearly, and nothing is marked failed."""
    from django.test import override_settings

    from django_payments_sync.exceptions import UnsupportedOperation
    from django_payments_sync.testing.paddle_emulator import DEFAULT_API_KEY

    payments.record_usage(user, api_calls, 3, identifier="before-the-switch")
    paddle = {
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {"api_key": DEFAULT_API_KEY, "api_base": paddle_emulator.url},
    }
    with override_settings(PAYMENTS_SYNC=paddle):
        with pytest.raises(UnsupportedOperation, match="does not support usage meters"):
            payments.record_usage(user, api_calls, 1)
        with pytest.raises(UnsupportedOperation):
            send_usage()
        err = StringIO()
        with pytest.raises(SystemExit):
            call_command("payments_sync", "usage", "send", stderr=err)
        assert "does not support usage meters" in err.getvalue()
        assert "stay pending" in err.getvalue()
    assert list(UsageEvent.objects.values_list("identifier", "status")) == [
        ("before-the-switch", "pending")
    ]


# --- against the Stripe emulator ------------------------------------------------------------
@pytest.fixture
def shop(stripe_emulator: Any, live_server: Any) -> Iterator[Any]:
    with emulated_site(stripe_emulator, live_server, USAGE={"ENQUEUE": False}):
        yield stripe_emulator


def counted(shop: Any, meter: Meter, customer_id: str) -> float:
    external = ExternalMeter.objects.get(meter=meter).external_id
    now = shop.now()
    summary = shop.client().v1.billing.meters.event_summaries.list(
        external, {"customer": customer_id, "start_time": now - 86400, "end_time": now + 86400}
    )
    return float(summary.data[0].aggregated_value)


@pytest.mark.slow
def test_an_outage_loses_nothing_and_counts_nothing_twice(
    shop: Any, user: Any, api_calls: Meter, settings: Any
) -> None:
    payments.get_customer(user)
    for n in range(30):
        payments.record_usage(user, "api_calls", 2, identifier=f"call-{n}")
    # The provider is down for the first tries...
    shop.inject_fault("POST /v1/billing/meter_events*", "500", count=3)
    assert send_usage().error
    # ...then counts an event but its answer is lost (the client times out first).
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "OPTIONS": {**settings.PAYMENTS_SYNC["OPTIONS"], "timeout": 0.5},
    }
    shop.clear_faults()
    shop.inject_fault("POST /v1/billing/meter_events*", "delay", count=1, delay=1.5)
    report = send_usage()
    assert report.error
    assert report.pending > 0
    time.sleep(1.5)  # the emulator counts the event after its delay: the retry is a duplicate
    shop.clear_faults()
    while send_usage().pending:
        pass
    customer = ExternalCustomer.objects.get().external_id
    assert counted(shop, api_calls, customer) == 60.0
    assert UsageEvent.objects.filter(status="sent").count() == 30
