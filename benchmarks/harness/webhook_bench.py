"""Webhook ingest: the same signed stream posted to each target's endpoint, measured alike."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import pg
from .loadgen import Request, run_load
from .procs import Emulator, Gunicorn, bench_env, logged_errors


def stripe_signer(secret: str) -> Callable[[bytes], Mapping[str, str]]:
    """Headers Stripe sends with a body: ``Stripe-Signature: t=<now>,v1=<HMAC-SHA256>``.

    Signed when the request leaves, so a slow target never sees a stale timestamp.
    """
    key = secret.encode()

    def sign(body: bytes) -> Mapping[str, str]:
        timestamp = str(int(time.time()))
        digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={digest}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }

    return sign


def requests_for(events: list[dict[str, Any]], path: str, secret: str) -> list[Request]:
    """One POST per event, its body serialised as Stripe does (indented JSON)."""
    sign = stripe_signer(secret)
    return [
        Request("POST", path, json.dumps(event, indent=2).encode(), sign=sign, tag=event["type"])
        for event in events
    ]


@dataclass
class Target:
    """One webhook receiver: how to serve it and where it listens."""

    name: str
    python: Path
    settings: str
    wsgi: str
    template: str
    path: str
    secret: str
    env: dict[str, str] = field(default_factory=dict)
    #: SQL whose rows describe what the receiver stored, for the report's sanity check.
    check_sql: str = ""


def run_target(
    target: Target,
    events: list[dict[str, Any]],
    emulator: Emulator,
    *,
    database: str,
    concurrency: int,
    workers: int,
    time_limit: float,
) -> dict[str, Any]:
    """Serve ``target`` on a fresh copy of its template database and post the stream to it."""
    url = pg.create_database(database, template=target.template)
    env = bench_env(
        DJANGO_SETTINGS_MODULE=target.settings,
        BENCH_DATABASE_URL=url,
        BENCH_STRIPE_API_BASE=emulator.url,
        BENCH_WEBHOOK_SECRET=target.secret,
        **target.env,
    )
    requests = requests_for(events, target.path, target.secret)
    try:
        app = Gunicorn(target.python, target.wsgi, env, name=target.name, workers=workers)
        with app:
            warm_up(app.port, target.path, workers)
            before = emulator.stats()
            result = run_load(
                "127.0.0.1", app.port, requests, concurrency=concurrency, time_limit=time_limit
            )
            after = emulator.stats()
        calls = after["total"] - before["total"]
        routes = {
            route: n - before["routes"].get(route, 0)
            for route, n in after["routes"].items()
            if n - before["routes"].get(route, 0)
        }
        stored = _rows(url, target.check_sql) if target.check_sql else []
        errors = logged_errors(app.log_path)
    finally:
        pg.drop_database(database)
    return {
        **result.as_dict(),
        "events": len(events),
        "api_calls": calls,
        "api_calls_per_event": calls / len(events) if events else float("nan"),
        "api_routes": dict(sorted(routes.items(), key=lambda kv: -kv[1])),
        "stored": stored,
        "errors_logged": errors,
    }


def warm_up(port: int, path: str, workers: int) -> None:
    """Unsigned posts (answered 400) until every worker has loaded Django and the URLconf."""
    requests = [Request("POST", path, b"{}") for _ in range(workers * 8)]
    run_load("127.0.0.1", port, requests, concurrency=workers * 2, time_limit=60)


def _rows(url: str, sql: str) -> list[list[Any]]:
    import psycopg

    with closing(psycopg.connect(url)) as conn:
        return [list(row) for row in conn.execute(sql).fetchall()]
