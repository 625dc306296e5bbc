"""run_all.py's sections beyond ingest: background workers, a growing log, provider latency."""

from __future__ import annotations

import json
import time
from typing import Any

from . import pg, workers_bench
from .procs import PROJECT_PYTHON, WORK, Emulator
from .webhook_bench import Target, run_target


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _events(limit: int | None = None) -> list[dict[str, Any]]:
    """The stream (its first ``limit`` events: a prefix keeps the provider's order)."""
    events = json.loads((WORK / "stream.json").read_text())["events"]
    return events[:limit] if limit else events


def run(name: str, r: Any, emulator: Emulator, targets: list[Target]) -> None:
    {"workers": workers, "growth": growth, "latency": latency}[name](r, emulator, targets)


def workers(r: Any, emulator: Emulator, targets: list[Target]) -> None:
    """The stream as a task-mode backlog, drained by 1, 2, 4 db_worker processes; then the
    peak RSS of one ``events process`` draining ``rss_events`` events."""
    events = _events(r.config.get("drain_events"))
    backlog = pg.PREFIX + "backlog"
    out: dict[str, Any] = {"events": len(events)}
    r.results["workers"] = out
    try:
        out["backlog"] = workers_bench.build_backlog(
            PROJECT_PYTHON, events, emulator, backlog, pg.PREFIX + "ours_tmpl"
        )
        out["drains"] = []
        for count in r.config["drain_workers"]:
            result = workers_bench.drain(
                PROJECT_PYTHON,
                emulator,
                backlog,
                pg.PREFIX + "drain",
                count,
                time_limit=r.config["webhook_time_limit"],
            )
            out["drains"].append(result)
            log(
                f"drain with {count} db_worker(s): {result['per_s']:7.1f} ev/s "
                f"({result['events']} events in {result['seconds']:.1f} s), peak RSS "
                f"{result['peak_rss_mb']} MB, {result['statuses']}"
            )
        out["rss"] = workers_bench.backlog_rss(
            PROJECT_PYTHON,
            emulator,
            backlog,
            pg.PREFIX + "rss",
            r.config["rss_events"],
            time_limit=r.config["rss_time_limit"],
        )
        rss = out["rss"]
        log(
            f"events process on {rss['events']} events: {rss['applied']} applied, "
            f"{rss['per_s']:.1f} ev/s{' (stopped at the time limit)' if rss['timed_out'] else ''}, "
            f"peak RSS {rss['peak_rss_mb']} MB, {rss['left_received']} left, {rss['output']}"
        )
    finally:
        pg.drop_database(backlog)


def growth(r: Any, emulator: Emulator, targets: list[Target]) -> None:
    """The sync endpoint on a log of ``log_sizes`` settled events: latency, queries per event."""
    events = _events(r.config.get("growth_events"))
    small, big = r.config["log_sizes"]
    result = workers_bench.growth(
        PROJECT_PYTHON,
        events,
        emulator,
        pg.PREFIX + "ours_tmpl",
        (small, big),
        time_limit=r.config["webhook_time_limit"],
    )
    r.results["growth"] = {"sizes": [small, big], "events": len(events), "runs": result}
    for size, run_ in result.items():
        log(
            f"log of {int(size):>9,}: {run_['per_s']:7.1f} ev/s  p50 {run_['p50_ms']:6.1f} ms  "
            f"{run_['data_queries_per_request']:.2f} q/ev"
        )


def latency(r: Any, emulator: Emulator, targets: list[Target]) -> None:
    """Ours (customer lock) and dj-stripe with a fixed delay on every provider call."""
    events = _events(r.config.get("latency_events"))
    chosen = [t for t in targets if t.name in ("ours (lock: customer)", "dj-stripe 2.11")]
    sweep: dict[str, list[dict[str, Any]]] = {t.name: [] for t in chosen}
    r.results["latency"] = {
        "delays_ms": r.config["latency_ms"],
        "events": len(events),
        "targets": sweep,
    }
    try:
        for delay in r.config["latency_ms"]:
            workers_bench.set_delay(emulator, delay / 1000)
            for target in chosen:
                result = run_target(
                    target,
                    events,
                    emulator,
                    database=pg.PREFIX + "latency_run",
                    concurrency=r.config["concurrency"],
                    workers=r.config["workers"],
                    time_limit=r.config["webhook_time_limit"],
                )
                result["delay_ms"] = delay
                sweep[target.name].append(result)
                log(
                    f"{target.name:<24} delay {delay:>3} ms: {result['per_s']:7.1f} ev/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  "
                    f"{result['api_calls_per_event']:.2f} calls/ev  "
                    f"ok {result['ok']}/{result['sent']}"
                )
    finally:
        workers_bench.set_delay(emulator, 0)
