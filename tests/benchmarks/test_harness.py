"""Smoke tests of the benchmark harness: load generator, signer, statistics and report."""

from __future__ import annotations

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe
from benchmarks.harness import report
from benchmarks.harness.loadgen import QUERIES_HEADER, Request, run_load
from benchmarks.harness.stats import percentile, summary
from benchmarks.harness.webhook_bench import requests_for, stripe_signer


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header(QUERIES_HEADER, "3")
        self.end_headers()


@pytest.fixture
def echo_port() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_load_generator_sends_each_request_once(echo_port: int) -> None:
    requests = [Request("POST", "/x", b"{}") for _ in range(40)]
    result = run_load("127.0.0.1", echo_port, requests, concurrency=4, time_limit=30)
    assert result.sent == 40
    assert result.ok == 40
    assert result.queries_per_request == 3
    assert not result.timed_out
    assert result.latency_ms(50) <= result.latency_ms(99)


def test_load_generator_refuses_other_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        run_load("192.0.2.1", 80, [], concurrency=1)


def test_signature_is_one_stripe_accepts() -> None:
    (request,) = requests_for([{"id": "evt_1", "type": "customer.created"}], "/w/", "whsec_x")
    headers = stripe_signer("whsec_x")(request.body)
    stripe.WebhookSignature.verify_header(
        request.body.decode(), headers["Stripe-Signature"], "whsec_x", 300
    )


def test_statistics() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    s = summary([10.0, 20.0, 30.0])
    assert (s["median"], s["min"], s["max"]) == (20.0, 10.0, 30.0)
    assert s["spread"] == 1.0


def test_report_from_measurements(tmp_path: Path) -> None:
    def runs(*per_s: float) -> dict[str, Any]:
        return {"runs": [{"per_s": x, "ok": 1, "sent": 1, "stored": []} for x in per_s]}

    results = {
        "config": {"mode": "test"},
        "webhooks": {
            "events": 1,
            "targets": {
                report.OURS_C: runs(100.0, 120.0),
                report.DJSTRIPE: runs(10.0, 20.0),
                report.CEILING: runs(150.0, 150.0),
            },
        },
        "migrations": {"ours": [{"seconds": 1.0}], "djstripe": [{"seconds": 50.0}]},
        "problems": [],
    }
    paths = report.write(results, tmp_path)
    text = (tmp_path / "latest.md").read_text()
    assert "10.00" in text  # 100/10 and 120/20 paired: median 8.0..10.0
    assert "[start:results]" in text
    saved = json.loads((tmp_path / "latest.json").read_text())
    rows = {row["label"]: row for row in saved["headline"]}
    assert rows["Migrations: dj-stripe time / ours (x faster)"]["met"] is True
    assert tmp_path / "latest.md" in paths


def test_exactly_once_needs_every_event_settled_and_the_in_order_state() -> None:
    from benchmarks.harness.workers_bench import exactly_once

    reference = {"state": "10:aaa"}
    good = {"statuses": {"processed": 9, "ignored": 1}, "failed_tasks": 0, "state": "10:aaa"}
    assert exactly_once(good, reference) is True
    assert exactly_once(good, None) is None
    assert exactly_once({**good, "state": "10:bbb"}, reference) is False
    assert exactly_once({**good, "failed_tasks": 1}, reference) is False
    assert exactly_once({**good, "left_in_queue": 2}, reference) is False
    assert exactly_once({**good, "timed_out": True}, reference) is False
    assert exactly_once({**good, "statuses": {"processed": 9, "received": 1}}, reference) is False


def test_run_time_row_and_section(tmp_path: Path) -> None:
    from benchmarks.harness import report_workers

    results = {
        "config": {"mode": "quick"},
        "environment": {"cpus": 2, "load_average_at_start": [1.0, 2.0, 3.0]},
        "section_seconds": {"webhooks": 100.0, "workers": 100.0},
        "section_load": {"webhooks": [1.5, 2.0, 3.0]},
        "total_seconds": 200.0,
        "problems": [],
    }
    [row] = report_workers.run_time_rows(results)
    assert row[1:] == ("3.3 min", "\u2264 3 min", "missed")
    report.write(results, tmp_path)
    text = (tmp_path / "latest.md").read_text()
    assert "## Run time by section" in text
    assert "| webhooks | 100.0 | 1.5, 2.0, 3.0 |" in text


def test_report_of_workers_growth_and_latency(tmp_path: Path) -> None:
    from benchmarks.harness import report_workers
    from benchmarks.harness.workers_bench import peak_rss_mb

    ours = {
        "runs": [
            {
                "per_s": 50.0,
                "data_queries_by_tag": {
                    "customer.updated": 5,
                    "invoice.paid": 4,
                    "customer.subscription.updated": 6,
                },
            }
        ]
    }
    results = {
        "config": {"mode": "test"},
        "webhooks": {"events": 1, "targets": {report.OURS_C: ours}},
        "workers": {
            "events": 100,
            "drains": [
                {
                    "workers": 1,
                    "per_s": 20.0,
                    "seconds": 5.0,
                    "peak_rss_mb": [90.0],
                    "statuses": {"processed": 100},
                    "failed_tasks": 0,
                },
                {
                    "workers": 2,
                    "per_s": 30.0,
                    "seconds": 3.3,
                    "peak_rss_mb": [90.0, 200.0],
                    "statuses": {"processed": 100},
                    "failed_tasks": 0,
                },
                {
                    "runner": "celery",
                    "workers": 1,
                    "per_s": 25.0,
                    "seconds": 4.0,
                    "peak_rss_mb": [95.0],
                    "statuses": {"processed": 100},
                    "failed_tasks": 0,
                    "left_in_queue": 0,
                    "state": "120:abc",
                    "exactly_once": True,
                },
                {
                    "runner": "celery",
                    "workers": 2,
                    "per_s": 40.0,
                    "seconds": 2.5,
                    "peak_rss_mb": [95.0, 96.0],
                    "statuses": {"processed": 100},
                    "failed_tasks": 0,
                    "left_in_queue": 0,
                    "state": "120:def",
                    "exactly_once": False,
                },
            ],
            "in_order": {"state": "120:abc", "seconds": 6.0},
            "rss": {
                "events": 10_000,
                "applied": 10_000,
                "timed_out": False,
                "seconds": 50.0,
                "per_s": 200.0,
                "peak_rss_mb": 80.0,
                "left_received": 0,
            },
        },
        "growth": {
            "sizes": [1000, 1_000_000],
            "runs": {
                "1000": {
                    "per_s": 50.0,
                    "p50_ms": 10.0,
                    "p99_ms": 20.0,
                    "data_queries_per_request": 5.5,
                },
                "1000000": {
                    "per_s": 49.0,
                    "p50_ms": 11.0,
                    "p99_ms": 22.0,
                    "data_queries_per_request": 5.5,
                },
            },
            "explain": {"ingest": {"index": True}, "prune": {"index": False}},
        },
        "api": {
            "GET /api/payment/billing/": {"data_queries_per_request": {"n": 1, "median": 3.0}},
            "PATCH /api/payment/billing/": {"data_queries_per_request": {"n": 1, "median": 11.0}},
        },
        "latency": {
            "delays_ms": [0, 150],
            "targets": {
                report.OURS_C: [
                    {"delay_ms": 0, "per_s": 50.0, "p50_ms": 10.0, "api_calls_per_event": 0.0},
                    {"delay_ms": 150, "per_s": 48.0, "p50_ms": 10.0, "api_calls_per_event": 0.0},
                ]
            },
        },
        "problems": [],
    }
    verdicts = {row[0]: row[3] for row in report_workers.table_rows(results)}
    per_type = "SQL queries per `{}` request (mail hooks included), ours (lock: customer)"
    assert verdicts[per_type.format("customer.updated")] == "met"
    assert verdicts[per_type.format("customer.subscription.updated")] == "missed: 1 over"
    assert verdicts[per_type.format("customer.subscription.deleted")] == "not measured"
    drains = [v for k, v in verdicts.items() if k.startswith("Background drain")]
    # A worker over 150 MB misses; so does a drain whose state is not the in-order drain's.
    assert drains == ["met", "missed", "met", "missed"]
    assert sum("Celery" in k for k in verdicts) == 2
    explain = [v for k, v in verdicts.items() if "use an index" in k]
    assert explain == ["missed"]  # the prune lookup scans
    assert (
        verdicts[
            "SQL queries per `GET /api/payment/billing/` request (session and user "
            "lookups included)"
        ]
        == "met"
    )
    assert (
        verdicts[
            "SQL queries per `PATCH /api/payment/billing/` request (session and user "
            "lookups included)"
        ]
        == "missed: 3 over"
    )
    sweep = [v for k, v in verdicts.items() if k.startswith("Throughput against provider")]
    assert sweep == ["missed"]  # dj-stripe not swept
    assert verdicts["Peak RSS of one `events process` draining 10,000 events"] == "met"
    assert verdicts["Ingest p50 latency, log of 1,000,000 stored events against 1,000"] == "met"
    assert verdicts["SQL queries per event, log of 1,000,000 stored events against 1,000"] == "met"
    paths = report.write(results, tmp_path)
    text = (tmp_path / "latest.md").read_text()
    assert "## Background workers" in text
    assert "| Celery (RabbitMQ) `celery worker --pool=solo` | 2 |" in text
    assert "NOT exactly once (state `120:def`" in text
    assert "## A growing log" in text
    assert "## Provider latency" in text
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert any(p.name == "latency_sweep.png" for p in paths) == has_matplotlib
    assert ("latency_sweep.png" in text) == has_matplotlib
    import os

    assert 1 < (peak_rss_mb(os.getpid()) or 0) < 10_000


def test_the_growth_verdict_takes_the_median_of_the_ratios_paired_by_repetition(
    tmp_path: Path,
) -> None:
    from benchmarks.harness import report_workers

    def size(p50: float) -> dict[str, Any]:
        return {"per_s": 50.0, "p50_ms": p50, "p99_ms": 30.0, "data_queries_per_request": 5.0}

    results: dict[str, Any] = {
        "config": {"mode": "test"},
        "growth": {
            "sizes": [1000, 1_000_000],
            "reps": 3,
            # The medians of each size (10 and 14 ms: 1.4x) would miss; the runs paired by
            # repetition say the big log costs 1.2x (the machine was slower in one of them).
            "runs": {"1000": size(10.0), "1000000": size(14.0)},
            "p50_ratios": [1.1, 1.5, 1.2],
        },
        "problems": [],
    }
    label = (
        "Ingest p50 latency, log of 1,000,000 stored events against 1,000 (median of 3 paired runs)"
    )
    rows = {row[0]: row for row in report_workers.table_rows(results)}
    assert rows[label][1].startswith("1.20")
    assert rows[label][3] == "met"
    report.write(results, tmp_path)
    text = (tmp_path / "latest.md").read_text()
    assert "3 repetitions, each on a fresh copy of both logs" in text
    assert "by repetition: 1.10, 1.50, 1.20." in text


def test_the_report_gives_the_push_its_verdict_against_the_budget() -> None:
    def run(products: int, budget: float, ops_per_s: float, **outcome: int) -> dict[str, Any]:
        return {
            "products": products,
            "budget": budget,
            "concurrency": 8,
            "ops": products * 3 + 2,
            "seconds": (products * 3 + 2) / ops_per_s,
            "ops_per_s": ops_per_s,
            "of_budget": ops_per_s / budget,
            "outcome": {"created": products * 3, **outcome},
            "second_push_calls": 0,
        }

    results: dict[str, Any] = {
        "push": {"full": run(10_000, 200, 170), "default": run(250, 25, 24.9, failures=1)}
    }
    text = report.markdown(results, None)
    assert "| 170.0 (85%) | \u2265 90% of the budget | missed: 0.94\u00d7 of the target |" in text
    # A push with failures misses whatever its rate.
    assert "| 24.9 (100%) | \u2265 90% of the budget | missed: 1 rows failed |" in text
    results["push"]["full"] = run(10_000, 200, 181)
    assert "| 181.0 (90%) | \u2265 90% of the budget | met |" in report.markdown(results, None)
    assert "## Catalog push against its rate budget" in text


def test_the_reserve_for_the_later_sections_is_what_they_took_last_time(tmp_path: Path) -> None:
    """The webhook repetitions stop early enough for the sections after them: the time kept
    is what those sections took in the last report of the same mode (+5%)."""
    from benchmarks.run_all import AFTER_WEBHOOKS, FULL, QUICK, reserve_for

    seconds = {"webhooks": 500.0, **{name: 60.0 for name in AFTER_WEBHOOKS}}
    last = tmp_path / "latest.json"
    last.write_text(json.dumps({"config": {"mode": "full"}, "section_seconds": seconds}))
    full = {**FULL, "mode": "full"}
    minutes, source = reserve_for(full, set(AFTER_WEBHOOKS) | {"webhooks"}, last)
    assert minutes == pytest.approx(len(AFTER_WEBHOOKS) * 1.05)
    assert "last full run" in source
    # Only the wanted sections count.
    assert reserve_for(full, {"webhooks", "push"}, last)[0] == pytest.approx(1.05)
    # Another mode's report, none, or one that is not JSON: the configured estimate.
    quick = {**QUICK, "mode": "quick"}
    assert reserve_for(quick, set(AFTER_WEBHOOKS), last) == (
        QUICK["reserve_minutes"],
        "the configured estimate",
    )
    last.write_text("{not json")
    assert reserve_for(full, set(AFTER_WEBHOOKS), last)[0] == FULL["reserve_minutes"]
    assert reserve_for(full, set(), tmp_path / "missing.json")[0] == 0
