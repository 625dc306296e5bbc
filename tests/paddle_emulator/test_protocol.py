"""The wire: auth, Paddle's error bodies, pagination, faults, delivery control, controls, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
import requests
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Customers.Operations import CreateCustomer, ListCustomers
from paddle_billing.Resources.Events.Operations import ListEvents
from paddle_billing.Resources.Shared.Operations import Pager

from django_payments_sync.testing.paddle_emulator import PaddleEmulator

from . import helpers
from .conftest import PaddleReceiver


def _call(emulator: PaddleEmulator, method: str, path: str, body: Any = None, **headers: str):
    headers.setdefault("Authorization", f"Bearer {emulator.api_key}")
    data = body if isinstance(body, str) or body is None else json.dumps(body)
    return requests.request(method, emulator.url + path, data=data, headers=headers, timeout=5)


def test_errors_have_paddles_body(paddle_emulator: PaddleEmulator, client: Any) -> None:
    missing = _call(paddle_emulator, "GET", "/customers/ctm_" + "0" * 26)
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert set(error) == {"type", "code", "detail", "documentation_url"}
    assert (error["type"], error["code"]) == ("request_error", "not_found")
    assert missing.json()["meta"]["request_id"]
    bad = _call(paddle_emulator, "POST", "/customers", {"email": "not an email"})
    assert bad.status_code == 400
    assert bad.json()["error"]["errors"] == [
        {"field": "email", "message": "must be a valid email address"}
    ]
    unknown = _call(
        paddle_emulator,
        "POST",
        "/products",
        {"name": "X", "tax_category": "standard", "colour": "red"},
    )
    assert unknown.json()["error"]["errors"][0]["field"] == "colour"
    with pytest.raises(ApiError) as raised:
        client.customers.create(CreateCustomer(email="x"))
    assert raised.value.field_errors[0].field == "email"
    assert _call(paddle_emulator, "POST", "/customers", "{nope").json()["error"]["code"] == (
        "invalid_json"
    )
    assert _call(paddle_emulator, "DELETE", "/customers").status_code == 405
    assert _call(paddle_emulator, "GET", "/nothing-here").status_code == 404


def test_the_api_key_is_required(paddle_emulator: PaddleEmulator) -> None:
    assert _call(paddle_emulator, "GET", "/customers", Authorization="").status_code == 403
    wrong = _call(paddle_emulator, "GET", "/customers", Authorization="Bearer pdl_other")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "forbidden")
    with PaddleEmulator(api_key=None) as anything:
        assert _call(anything, "GET", "/customers", Authorization="Bearer x").status_code == 200


def test_cursor_pagination_through_the_sdk(paddle_emulator: PaddleEmulator, client: Any) -> None:
    made = [client.customers.create(CreateCustomer(email=f"c{i}@example.com")).id for i in range(7)]
    archived = client.customers.create(CreateCustomer(email="gone@example.com"))
    client.customers.archive(archived.id)
    page = client.customers.list(ListCustomers(Pager(per_page=3)))
    assert len(page.items) == 3
    assert page.paginator.has_more
    assert [c.id for c in page] == made  # the SDK follows meta.pagination.next
    newest = client.customers.list(ListCustomers(Pager(per_page=2, order_by=_desc())))
    assert [c.id for c in newest.items] == made[::-1][:2]
    after = client.customers.list(ListCustomers(Pager(after=made[4])))
    assert [c.id for c in after.items] == made[5:]
    most = _call(paddle_emulator, "GET", "/customers?per_page=500").json()
    assert most["meta"]["pagination"]["per_page"] == 200  # Paddle's maximum, not an error
    assert _call(paddle_emulator, "GET", "/customers?per_page=0").status_code == 400
    unpaged = [c["id"] for c in _call(paddle_emulator, "GET", "/customers").json()["data"]]
    assert unpaged == made[::-1]  # without order_by: newest first, as Paddle lists
    events = client.events.list(ListEvents(Pager(per_page=2)))
    assert [e.event_type.value for e in events] == ["customer.created"] * 8 + ["customer.updated"]
    everyone = _call(paddle_emulator, "GET", "/customers?status=active,archived").json()
    assert len(everyone["data"]) == 8  # the default scope is active only


def _desc() -> Any:
    from paddle_billing.Resources.Shared.Operations.List.OrderBy import OrderBy

    return OrderBy.id_descending()


def test_faults_500_429_and_delay(paddle_emulator: PaddleEmulator, client: Any) -> None:
    paddle_emulator.inject_fault("POST /customers", "500", count=1)
    with pytest.raises(ApiError) as failed:
        client.customers.create(CreateCustomer(email="a@example.com"))
    assert failed.value.error_code == "internal_error"
    paddle_emulator.inject_fault("GET /customers*", "429", count=1)
    with pytest.raises(ApiError) as limited:
        client.customers.list()
    assert limited.value.error_code == "too_many_requests"
    assert limited.value.retry_after == 1
    assert client.customers.create(CreateCustomer(email="a@example.com")).id
    paddle_emulator.inject_fault("GET /customers", "delay", count=1, delay=0.3)
    started = time.perf_counter()
    assert len(client.customers.list().items) == 1
    assert time.perf_counter() - started >= 0.3


def test_delivery_modes_pause_flush_and_retries(
    paddle_emulator: PaddleEmulator, client: Any, receiver: PaddleReceiver
) -> None:
    setting = paddle_emulator.add_notification_destination(receiver.url, ["customer.created"])
    paddle_emulator.pause_deliveries()
    for i in range(5):
        client.customers.create(CreateCustomer(email=f"p{i}@example.com"))
    assert paddle_emulator.pending_deliveries() == 5
    assert receiver.received == []
    paddle_emulator.flush(timeout=5)
    assert len(receiver.payloads()) == 5
    paddle_emulator.set_delivery_mode("duplicates")
    client.customers.create(CreateCustomer(email="twice@example.com"))
    paddle_emulator.wait_for_deliveries(timeout=5)
    twice = [p for p in receiver.payloads() if p["data"]["email"] == "twice@example.com"]
    assert len(twice) == 2
    assert twice[0]["notification_id"] == twice[1]["notification_id"]
    paddle_emulator.set_delivery_mode("shuffled")
    receiver.fail_next = 1
    client.customers.create(CreateCustomer(email="retried@example.com"))
    log = paddle_emulator.wait_for_deliveries(timeout=5)
    attempts = [d for d in log if d["notification"] and d["attempt"] == 2]
    assert attempts
    assert attempts[0]["ok"]
    assert receiver.notifications(setting["endpoint_secret_key"])
    with pytest.raises(ValueError, match="delivery mode"):
        paddle_emulator.set_delivery_mode("sideways")


def test_control_endpoints(paddle_emulator: PaddleEmulator, client: Any) -> None:
    def control(method: str, action: str, body: Any = None) -> Any:
        answer = requests.request(
            method, f"{paddle_emulator.url}/_emulator/{action}", json=body, timeout=5
        )
        return answer.status_code, answer.json()

    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    status, clock = control("GET", "clock")
    assert status == 200
    status, moved = control("POST", "clock/advance", {"seconds": 40 * 86400})
    assert moved["now"] > clock["now"]
    assert len(client.transactions.list().items) == 2  # renewed on the way
    status, setting = control("POST", "notification_settings", {"url": "http://127.0.0.1:9/"})
    assert setting["endpoint_secret_key"].startswith("pdl_ntfset_")
    status, card = control(
        "POST", "customers/card", {"customer_id": sub.customer_id, "declined": True}
    )
    assert card["declined"] is True
    status, canceled = control("POST", "subscriptions/cancel", {"subscription_id": sub.id})
    assert canceled["status"] == "canceled"
    status, fault = control("POST", "faults", {"route": "GET /customers", "kind": "500"})
    assert fault["kind"] == "500"
    assert control("DELETE", "faults")[1] == {"faults": []}
    assert control("POST", "nope")[0] == 404
    assert control("POST", "entities/update", {"id": "ctm_x", "changes": {}})[0] == 400
    assert control("POST", "reset")[1] == {"reset": True}
    assert control("GET", "state")[1]["objects"] == {}


def test_reset_refuses_a_request_held_back_before_it(paddle_emulator: PaddleEmulator) -> None:
    import threading

    paddle_emulator.inject_fault("POST /customers", "delay", count=1, delay=0.4)
    answers: list[requests.Response] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            _call(paddle_emulator, "POST", "/customers", {"email": "late@example.com"})
        )
    )
    thread.start()
    time.sleep(0.1)
    paddle_emulator.reset()
    thread.join()
    assert answers[0].status_code == 500
    assert paddle_emulator.state()["objects"] == {}


def test_the_command_line_starts_one_the_sdk_reaches() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "django_payments_sync.testing.paddle_emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Paddle emulator listening on http://127.0.0.1:" in line
        url = line.split(" on ")[1].split(" ")[0]
        from paddle_billing import Client, Options

        from django_payments_sync.testing.paddle_emulator import (
            DEFAULT_API_KEY,
            EmulatorEnvironment,
        )

        remote = Client(DEFAULT_API_KEY, options=Options(EmulatorEnvironment(url)))
        assert remote.customers.create(CreateCustomer(email="cli@example.com")).id
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_start_and_stop_are_idempotent() -> None:
    emulator = PaddleEmulator()
    assert emulator.start() is emulator.start()
    emulator.stop()
    emulator.stop()
