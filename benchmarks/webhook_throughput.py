"""Webhook throughput: events/s through the HTTP endpoint, and SQL queries per event by type.

A 2,000-event stream (customers created, linked by metadata or by a checkout for a new email;
their subscriptions created, paid, changed and sometimes canceled) is signed as the provider
signs it and posted, in provider order, to gunicorn (2 sync workers) on PostgreSQL over a few
keep-alive connections. Then the same stream is applied again in-process on an empty
database, one event at a time through Django's test client, counting the SQL statements each
request runs (BEGIN/COMMIT excluded) by event type. ``--provider`` picks Stripe's events
(``stripe/webhook/``), Paddle's notifications (``paddle/webhook/``, the Paddle backend), or
both, one after the other, for figures side by side.

Run from the repository root (needs the PostgreSQL server; creates and drops one database):

    .venv/bin/python benchmarks/webhook_throughput.py [--events 2000] [--connections 4]
        [--provider stripe|paddle|both]
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "bench_webhook_throughput"
SERVER_DSN = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")


def recreate_database() -> str:
    import psycopg

    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return SERVER_DSN.rsplit("/", 1)[0] + "/" + DB_NAME


def drop_database() -> None:
    import psycopg

    with psycopg.connect(SERVER_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


PADDLE_SECRET = "pdl_ntfset_payments_sync_bench"


def signed(provider: str, event: dict[str, Any], secret: str) -> tuple[str, bytes, dict[str, str]]:
    """The path, body and headers of one webhook request, signed as the provider signs."""
    if provider == "paddle":
        import json

        from django_payments_sync.backends.paddle.events import signature_header

        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Paddle-Signature": signature_header(body, [PADDLE_SECRET])}
        return "/api/payment/paddle/webhook/", body, headers
    from django_payments_sync.testing.webhooks import sign_stripe_payload

    body, headers = sign_stripe_payload(event, secret)
    return "/api/payment/stripe/webhook/", body, headers


def post_all(
    port: int, events: list[dict[str, Any]], connections: int, secret: str, provider: str
) -> list[int]:
    """Post every event once, in order, from ``connections`` keep-alive connections."""
    work: queue.Queue[dict[str, Any] | None] = queue.Queue()
    for event in events:
        work.put(event)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            try:
                event = work.get_nowait()
            except queue.Empty:
                return
            path, body, headers = signed(provider, event, secret)
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def type_of(event: dict[str, Any]) -> str:
    """A Stripe event's ``type`` or a Paddle notification's ``event_type``."""
    return str(event.get("type") or event.get("event_type"))


def whole_customers(events: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` events of the stream, cut so that every customer's story is whole
    up to its last subscription changes (no checkout or creation is cut off)."""
    kept = events[:limit]
    optional = {
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "subscription.updated",
        "subscription.canceled",
    }
    cut = events[limit:]
    # An essential event beyond the cut: trade it for an optional one before the cut.
    for event in cut:
        if type_of(event) in optional:
            continue
        for index in range(len(kept) - 1, -1, -1):
            if type_of(kept[index]) in optional:
                del kept[index]
                kept.append(event)
                break
    return kept


def stream(provider: str, customers: int, limit: int) -> list[dict[str, Any]]:
    """The provider's event stream over freshly made local rows."""
    if provider == "paddle":
        from tests.webhooks.paddle_streams import build_paddle_stream, make_paddle_world

        world = make_paddle_world(customers)
        events = build_paddle_stream(world, customers, updates=4, seed=1)
    else:
        from tests.webhooks.streams import build_stream, make_world

        world = make_world(customers)
        events = build_stream(world, customers, updates=4, seed=1)
    return whole_customers(events, limit)


def run(provider: str, args: argparse.Namespace, env: dict[str, str]) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from django_payments_sync.models import WebhookEvent
    from tests.servers import free_port, gunicorn

    secret = settings.PAYMENTS_SYNC["OPTIONS"]["webhook_secret"]
    config = dict(settings.PAYMENTS_SYNC)
    server_env = dict(env)
    if provider == "paddle":
        server_env.update(
            PAYMENTS_SYNC_TEST_PROVIDER="paddle", PAYMENTS_SYNC_TEST_PADDLE_SECRET=PADDLE_SECRET
        )
        config["BACKEND"] = "django_payments_sync.backends.paddle.PaddleBackend"
        config["OPTIONS"] = {
            "api_key": "pdl_sdbx_bench",
            "api_base": "http://127.0.0.1:9",
            "webhook_secret": PADDLE_SECRET,
        }
    with override_settings(PAYMENTS_SYNC=config):
        call_command("flush", interactive=False, verbosity=0)
        customers = args.events // 9 + 1
        events = stream(provider, customers, args.events)
        connections.close_all()

        port = free_port()
        with gunicorn(
            workers=args.workers,
            settings_module=env["DJANGO_SETTINGS_MODULE"],
            env=server_env,
            port=port,
        ):
            started = time.perf_counter()
            statuses = post_all(port, events, args.connections, secret, provider)
            seconds = time.perf_counter() - started
        outcome = dict(
            WebhookEvent.objects.values_list("status").annotate(n=django.db.models.Count("id"))
        )
        print(
            f"{provider} HTTP: {len(events)} events, gunicorn {args.workers} workers, "
            f"{args.connections} connections, lock scope {args.scope!r}, PostgreSQL"
        )
        print(
            f"  {seconds:.2f} s  ->  {len(events) / seconds:.0f} events/s   "
            f"answers {dict(sorted((s, statuses.count(s)) for s in set(statuses)))}   "
            f"events {outcome}"
        )

        # Queries per event: the same stream again, in-process, on an empty database.
        call_command("flush", interactive=False, verbosity=0)
        events = stream(provider, customers, args.events)
        client = Client()
        per_type: dict[str, list[int]] = defaultdict(list)
        control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
        for event in events:
            path, body, headers = signed(provider, event, secret)
            connection.queries_log.clear()  # the log keeps 9,000 entries: start each one empty
            with CaptureQueriesContext(connection) as captured:
                client.post(path, data=body, content_type="application/json", headers=headers)
            sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]
            per_type[type_of(event)].append(len(sql))
        total = sum(sum(v) for v in per_type.values())
        print(
            f"{provider} SQL queries: {total} for {len(events)} events = "
            f"{total / len(events):.1f} per event (a request also applies the deferred events "
            "its event releases: a checkout that creates a customer applies that customer's "
            "earlier events)"
        )
        print("SQL queries per request, by the type of the request's event:")
        print(f"  {'type':<34} {'events':>6} {'mean':>6} {'max':>5}")
        for event_type, counts in sorted(per_type.items()):
            print(
                f"  {event_type:<34} {len(counts):>6} {statistics.mean(counts):>6.1f} "
                f"{max(counts):>5}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--scope", choices=["customer", "global"], default="customer")
    parser.add_argument("--provider", choices=["stripe", "paddle", "both"], default="stripe")
    args = parser.parse_args()

    dsn = recreate_database()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}",
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.server_settings",
        "PAYMENTS_SYNC_TEST_DATABASE": "postgres",
        "PAYMENTS_SYNC_TEST_POSTGRES": dsn,
        "PAYMENTS_SYNC_TEST_LOCK_SCOPE": args.scope,
    }
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
        providers = ["stripe", "paddle"] if args.provider == "both" else [args.provider]
        for provider in providers:
            run(provider, args, env)
    finally:
        connections.close_all()
        drop_database()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
