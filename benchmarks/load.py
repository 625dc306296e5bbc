"""Load test: the billing API and the webhook endpoint at once, on PostgreSQL with gunicorn workers.

Not a timed test: a bounded run that prints what it sustained. It plays a seeded account history
on the Stripe emulator (the library pushes the local customers and plans there, the customers'
lives happen at the provider), then sends the emulator's events to the webhook endpoint while
logged-in users read and change their billing information, all interleaved over keep-alive
connections. It reports the sustained rate, the error rate (target 0), p50 and p99 latency per
kind, and checks afterwards that every event was stored once and applied.

    .venv/bin/python benchmarks/load.py                  # 100 customers, 4 workers, 8 connections
    .venv/bin/python benchmarks/load.py --customers 40 --api 600 --time-limit 60

Everything listens on 127.0.0.1; every loop is bounded in count and in time. It needs the
PostgreSQL server at ``BENCH_POSTGRES`` (default ``postgresql://root@127.0.0.1:5432/postgres``);
its one database, ``runall_load``, is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from benchmarks.harness import api_bench, pg  # noqa: E402
from benchmarks.harness.loadgen import Request, run_load  # noqa: E402
from benchmarks.harness.procs import (  # noqa: E402
    PROJECT_PYTHON,
    WORK,
    Emulator,
    Gunicorn,
    bench_env,
    last_json,
    logged_errors,
    run,
)
from benchmarks.harness.stats import percentile  # noqa: E402
from benchmarks.harness.webhook_bench import requests_for  # noqa: E402

SETTINGS = "benchmarks.harness.ours.settings"
WSGI = "benchmarks.harness.ours.wsgi:application"
DATABASE = "runall_load"
WEBHOOK_PATH = "/api/payment/stripe/webhook/"
WEBHOOK_SECRET = "whsec_benchmark"  # what benchmarks/harness/ours/settings.py reads by default


def interleave(webhooks: list[Request], api: list[Request], seed: int) -> list[Request]:
    """Both streams merged at random, each keeping its own order (events stay in provider
    order, as the emulator sends them; the endpoint copes with any order anyway)."""
    rng = random.Random(seed)
    out: list[Request] = []
    w, a = 0, 0
    while w < len(webhooks) or a < len(api):
        left_w, left_a = len(webhooks) - w, len(api) - a
        if rng.random() < left_w / (left_w + left_a):
            out.append(webhooks[w])
            w += 1
        else:
            out.append(api[a])
            a += 1
    return out


def tagged(requests: list[Request], tag: str) -> list[Request]:
    for request in requests:
        request.tag = tag
    return requests


def stored_events(url: str) -> Counter[str]:
    import psycopg

    with closing(psycopg.connect(url)) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM django_payments_sync_webhookevent GROUP BY status"
        ).fetchall()
    return Counter({str(status): int(n) for status, n in rows})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100, help="accounts in the history")
    parser.add_argument("--users", type=int, default=16, help="logged-in API users")
    parser.add_argument("--api", type=int, default=1500, help="billing API requests")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds, at most")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()

    url = pg.create_database(DATABASE)
    try:
        with Emulator(seed=args.seed, name="emulator-load") as emulator:
            env = bench_env(
                DJANGO_SETTINGS_MODULE=SETTINGS,
                BENCH_DATABASE_URL=url,
                BENCH_STRIPE_API_BASE=emulator.url,
                BENCH_WEBHOOK_SECRET=WEBHOOK_SECRET,
            )
            run([str(PROJECT_PYTHON), "-m", "django", "migrate", "-v0"], env)
            out = WORK / "load_stream.json"
            history = last_json(
                run(
                    [
                        str(PROJECT_PYTHON),
                        "-m",
                        "benchmarks.harness.stream",
                        "--customers",
                        str(args.customers),
                        "--seed",
                        str(args.seed),
                        "--out",
                        str(out),
                    ],
                    env,
                )
            )
            events = json.loads(out.read_text())["events"]
            fixture = last_json(
                run(
                    [
                        str(PROJECT_PYTHON),
                        "-m",
                        "benchmarks.harness.ours.api_fixture",
                        "--users",
                        str(args.users),
                    ],
                    env,
                )
            )
            sessions = fixture["sessions"]
            reads = args.api * 2 // 3
            api = tagged(api_bench.billing_requests(sessions, reads, "GET"), "GET billing") + (
                tagged(
                    api_bench.billing_requests(sessions, args.api - reads, "PATCH"), "PATCH billing"
                )
            )
            random.Random(args.seed).shuffle(api)
            webhooks = tagged(requests_for(events, WEBHOOK_PATH, WEBHOOK_SECRET), "webhook")
            requests = interleave(webhooks, api, args.seed)
            with Gunicorn(PROJECT_PYTHON, WSGI, env, name="load", workers=args.workers) as app:
                run_load("127.0.0.1", app.port, api_bench.plans_requests(16), concurrency=4)
                result = run_load(
                    "127.0.0.1",
                    app.port,
                    requests,
                    concurrency=args.concurrency,
                    time_limit=args.time_limit,
                )
                server_errors = logged_errors(app.log_path)
            stored = stored_events(url)
    finally:
        pg.drop_database(DATABASE)

    failed = result.sent - result.ok
    print(
        f"history: {args.customers} customers, {len(events)} webhook events "
        f"(of {history['emulator_events']} emitted); {len(sessions)} API users"
    )
    print(
        f"load: {result.sent} requests of {len(requests)} in {result.wall:.1f} s over "
        f"{args.concurrency} connections to {args.workers} gunicorn workers"
        + (" (stopped at the time limit)" if result.timed_out else "")
    )
    print(f"sustained rate: {result.throughput:.1f} requests/s")
    print(f"error rate: {failed / result.sent if result.sent else float('nan'):.4%} ({failed})")
    print(f"statuses: {dict(sorted(result.statuses.items()))}")
    print(f"latency, all: p50 {result.latency_ms(50):.1f} ms, p99 {result.latency_ms(99):.1f} ms")
    for tag, values in sorted(result.by_tag.items()):
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        print(
            f"latency, {tag}: {len(values)} requests, {len(values) / result.wall:.1f}/s, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
    print(f"webhook events stored, by status: {dict(sorted(stored.items()))}")
    for line in result.errors[:5]:
        print(f"client error: {line}")
    for message, count in server_errors.items():
        print(f"server logged {count}x {message}")
    applied = stored.get("processed", 0) + stored.get("ignored", 0)
    complete = not result.timed_out and applied == len(events) == sum(stored.values())
    print("every event stored once and applied" if complete else "NOT every event was applied")
    return 0 if failed == 0 and complete else 1


if __name__ == "__main__":
    sys.exit(main())
