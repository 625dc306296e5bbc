"""Real concurrency on Paddle's notifications: 4 gunicorn workers with the Paddle backend, a
shuffled duplicated Paddle stream over 16 connections, on PostgreSQL or MySQL/MariaDB. Each
event is stored once, applied once, and the local state equals in-order delivery's."""

from __future__ import annotations

import concurrent.futures
import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from django_payments_sync.backends.paddle.events import signature_header
from django_payments_sync.models import WebhookEvent
from django_payments_sync.webhooks import process_webhook_request
from tests.servers import database_environment, gunicorn
from tests.webhooks.paddle_streams import build_paddle_stream, make_paddle_world
from tests.webhooks.streams import read_state, shuffled_with_duplicates

pytestmark = [pytest.mark.server_db, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 24
SECRET = "pdl_ntfset_payments_sync_concurrency"
PADDLE_URL = "/api/payment/paddle/webhook/"


def signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {
        "Paddle-Signature": signature_header(body, [SECRET]),
        "Content-Type": "application/json",
    }


def post(url: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body, headers = signed(event)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def with_local_ids(events: list[dict[str, Any]], local_ids: dict[str, int]) -> list[dict[str, Any]]:
    """The same notifications, their ``payments_sync_id`` pointing at this world's rows."""
    out = []
    for event in events:
        data = event["data"]
        custom = data.get("custom_data") or {}
        if event["event_type"].startswith("customer.") and "payments_sync_id" in custom:
            data = {
                **data,
                "custom_data": {**custom, "payments_sync_id": str(local_ids[data["id"]])},
            }
            event = {**event, "data": data}
        out.append(event)
    return out


@pytest.mark.parametrize("scope", ["customer", "global"])
def test_concurrent_shuffled_duplicated_paddle_deliveries_match_in_order_state(settings, scope):
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {
            "api_key": "pdl_sdbx_x",
            "api_base": "http://127.0.0.1:9",
            "webhook_secret": SECRET,
        },
        "AUTO_SYNC": False,
        "WEBHOOK_LOCK_SCOPE": scope,
        "MAIL": {"ENABLED": False},
    }
    world = make_paddle_world(CUSTOMERS)
    in_order = build_paddle_stream(world, CUSTOMERS, updates=4, seed=5)
    for event in in_order:
        process_webhook_request(*signed(event))
    expected = read_state()
    assert {status for _, status in expected["events"]} <= {"processed", "ignored"}
    call_command("flush", interactive=False, verbosity=0)

    world = make_paddle_world(CUSTOMERS)
    events = with_local_ids(in_order, world.local_ids)
    stream = shuffled_with_duplicates(events, seed=11)
    env = {
        **database_environment(),
        "PAYMENTS_SYNC_TEST_LOCK_SCOPE": scope,
        "PAYMENTS_SYNC_TEST_PROVIDER": "paddle",
        "PAYMENTS_SYNC_TEST_PADDLE_SECRET": SECRET,
    }
    with gunicorn(workers=4, settings_module="tests.webhooks.server_settings", env=env) as (
        _server,
        url,
    ):
        paddle_url = url.replace("/api/payment/stripe/webhook/", PADDLE_URL)
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda e: post(paddle_url, e), stream))

    assert Counter(status for status, _ in answers) == {200: len(stream)}
    firsts = Counter(body["id"] for _, body in answers if not body["duplicate"])
    assert firsts == Counter(e["event_id"] for e in events)
    assert WebhookEvent.objects.filter(provider="paddle").count() == len(events)
    rows = list(WebhookEvent.objects.values("status", "attempts"))
    assert {r["status"] for r in rows} <= {"processed", "ignored"}
    assert max(r["attempts"] for r in rows) <= 3
    state = read_state()
    assert state["users"] == expected["users"]
    assert state["customers"] == expected["customers"]
    assert state["subscriptions"] == expected["subscriptions"]
