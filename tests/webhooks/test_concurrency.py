"""Real concurrency on a database server: 4 gunicorn workers, a shuffled duplicated stream.

Runs on PostgreSQL (advisory locks) and on MySQL/MariaDB (named locks, ``GET_LOCK``), whichever
the suite runs on (marker ``server_db``). Each test starts gunicorn with 4 synchronous workers on
the test database and posts every event twice, shuffled, over 16 concurrent HTTP connections.
Then: each event is stored once and applied once, no row is duplicated, and the local state
equals in-order delivery's.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from django_payments_sync.models import WebhookEvent
from django_payments_sync.testing.webhooks import sign_stripe_payload
from django_payments_sync.webhooks import process_webhook_request
from tests.servers import database_environment, gunicorn
from tests.webhooks.conftest import SECRET
from tests.webhooks.streams import (
    build_stream,
    make_world,
    read_state,
    shuffled_with_duplicates,
)

pytestmark = [pytest.mark.server_db, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 24
WORKERS = 4


def post(url: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body, headers = sign_stripe_payload(event, SECRET)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def with_local_ids(events: list[dict[str, Any]], local_ids: dict[str, int]) -> list[dict[str, Any]]:
    """The same events, their ``payments_sync_id`` metadata pointing at this world's rows."""
    out = []
    for event in events:
        obj = event["data"]["object"]
        if obj.get("object") == "customer" and "payments_sync_id" in (obj.get("metadata") or {}):
            obj = {
                **obj,
                "metadata": {**obj["metadata"], "payments_sync_id": str(local_ids[obj["id"]])},
            }
            event = {**event, "data": {**event["data"], "object": obj}}
        out.append(event)
    return out


def reset_database() -> None:
    call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("scope", ["customer", "global"])
def test_concurrent_shuffled_duplicated_deliveries_match_in_order_state(settings, scope):
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "AUTO_SYNC": False,
        "WEBHOOK_LOCK_SCOPE": scope,
        "MAIL": {"ENABLED": False},
    }
    # The reference: every event once, in provider order, in this process.
    world = make_world(CUSTOMERS)
    in_order = build_stream(world, CUSTOMERS, updates=4, seed=5)
    for event in in_order:
        body, headers = sign_stripe_payload(event, SECRET)
        process_webhook_request(body, headers)
    expected = read_state()
    assert {status for _, status in expected["events"]} == {"processed"}
    reset_database()

    world = make_world(CUSTOMERS)
    events = with_local_ids(in_order, world.local_ids)
    stream = shuffled_with_duplicates(events, seed=11)
    with gunicorn(
        workers=WORKERS,
        settings_module="tests.webhooks.server_settings",
        env={**database_environment(), "PAYMENTS_SYNC_TEST_LOCK_SCOPE": scope},
    ) as (_server, url):
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda e: post(url, e), stream))
        elapsed = time.monotonic() - started

    assert Counter(status for status, _ in answers) == {200: len(stream)}
    # Stored once: exactly one delivery of each event was not a duplicate.
    firsts = Counter(body["id"] for _, body in answers if not body["duplicate"])
    assert firsts == Counter(e["id"] for e in events)
    assert WebhookEvent.objects.count() == len(events)
    # Applied once: nothing failed or waits, and the events that can never wait (customer and
    # subscription events of customers linked from the start) took exactly one attempt;
    # others took one more per time they waited.
    rows = list(WebhookEvent.objects.values("ordering_key", "type", "status", "attempts"))
    assert {r["status"] for r in rows} == {"processed"}
    linked = {f"customer:{cus}" for cus in world.local_ids if int(cus[4:]) % 3 == 0}
    never_wait = [
        r for r in rows if r["ordering_key"] in linked and not r["type"].startswith("invoice.")
    ]
    assert len(never_wait) > CUSTOMERS
    assert {r["attempts"] for r in never_wait} == {1}
    # At most: waiting for the customer, then for the subscription, then applied.
    assert max(r["attempts"] for r in rows) <= 3
    state = read_state()
    assert state["users"] == expected["users"]
    assert len(set(state["users"])) == len(state["users"])
    assert state["customers"] == expected["customers"]
    assert state["subscriptions"] == expected["subscriptions"]
    print(f"{scope}: {len(stream)} deliveries of {len(events)} events in {elapsed:.1f}s")
