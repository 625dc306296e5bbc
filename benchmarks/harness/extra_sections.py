"""run_all.py's sections beyond ingest: background workers, a growing log, provider latency."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from . import celery_bench, pg, workers_bench
from .procs import PROJECT_PYTHON, WORK, Emulator
from .report_workers import DJSTRIPE, OURS_C
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
    """The stream as a task-mode backlog, drained by 1, 2, 4 db_worker processes and by 1, 2, 4
    Celery worker processes on RabbitMQ, each checked against one in-order drain's state; then
    the peak RSS of one ``events process`` streaming a backlog of ``rss_events`` events."""
    events = _events(r.config.get("drain_events"))
    backlog = pg.PREFIX + "backlog"
    out: dict[str, Any] = {"events": len(events)}
    r.results["workers"] = out
    try:
        out["backlog"] = workers_bench.build_backlog(
            PROJECT_PYTHON, events, emulator, backlog, pg.PREFIX + "ours_tmpl"
        )
        out["in_order"] = workers_bench.in_order_state(
            PROJECT_PYTHON, emulator, backlog, pg.PREFIX + "in_order"
        )
        log(
            f"in-order drain (events process): {out['in_order']['seconds']:.1f} s, "
            f"state {out['in_order']['state']}"
        )
        out["drains"] = []
        runners = list(r.config["drain_runners"])
        if "celery" in runners:
            why = celery_bench.broker_ready(celery_bench.BROKER)
            if why:
                r.problem("workers: celery", f"RabbitMQ at {celery_bench.BROKER}: {why}")
                runners.remove("celery")
        for runner in runners:
            drain = workers_bench.drain if runner == "db_worker" else celery_bench.drain
            for count in r.config["drain_workers"]:
                try:
                    result = drain(
                        PROJECT_PYTHON,
                        emulator,
                        backlog,
                        pg.PREFIX + "drain",
                        count,
                        time_limit=r.config["webhook_time_limit"],
                    )
                except Exception as exc:
                    r.problem(f"workers: {runner} x {count}", exc)
                    continue
                result["exactly_once"] = workers_bench.exactly_once(result, out["in_order"])
                out["drains"].append(result)
                log(
                    f"drain with {count} {runner}(s): {result['per_s']:7.1f} ev/s "
                    f"({result['events']} events in {result['seconds']:.1f} s), peak RSS "
                    f"{result['peak_rss_mb']} MB, {result['statuses']}, failed tasks "
                    f"{result['failed_tasks']}, exactly once: {result['exactly_once']}"
                )
        out["rss"] = workers_bench.backlog_rss(
            PROJECT_PYTHON,
            emulator,
            backlog,
            pg.PREFIX + "rss",
            r.config["rss_events"],
            time_limit=r.config["rss_time_limit"],
            stop_after=r.config.get("rss_stop_after"),
        )
        rss = out["rss"]
        log(
            f"events process on {rss['events']} events: {rss['applied']} applied, "
            f"{rss['per_s']:.1f} ev/s{' (stopped at the time limit)' if rss['timed_out'] else ''}, "
            f"peak RSS {rss['peak_rss_mb']} MB {rss['peak_rss_by_quarter']}, "
            f"{rss['left_received']} left, {rss['output']}"
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
        reps=r.config["growth_reps"],
    )
    explain = result.pop("explain", None)
    ratios = result.pop("p50_ratios", [])
    r.results["growth"] = {
        "sizes": [small, big],
        "events": len(events),
        "reps": r.config["growth_reps"],
        "runs": result,
        "p50_ratios": ratios,
        "explain": explain,
    }
    if explain:
        log(
            f"EXPLAIN on the log of {big:,}: "
            + ", ".join(f"{k} {v['index']}" for k, v in explain.items())
        )
    for size, run_ in result.items():
        log(
            f"log of {int(size):>9,}: {run_['per_s']:7.1f} ev/s  p50 {run_['p50_ms']:6.1f} ms  "
            f"{run_['data_queries_per_request']:.2f} q/ev (medians of {len(run_['runs'])})"
        )
    by_rep = ", ".join(f"{x:.2f}" for x in ratios)
    log(f"p50 on the big log / the small one, by repetition: {by_rep}")


def latency(r: Any, emulator: Emulator, targets: list[Target]) -> None:
    """Ours (customer lock) and dj-stripe with a fixed delay on every provider call.

    At each delay ours runs before and after dj-stripe (the two averaged), so whatever a
    dj-stripe run leaves on the machine (its writes, a slow shutdown) weighs on ours alike at
    every delay, and ours' line compares like with like.
    """
    events = _events(r.config.get("latency_events"))
    chosen = [t for t in targets if t.name in (OURS_C, DJSTRIPE)]
    sweep: dict[str, list[dict[str, Any]]] = {t.name: [] for t in chosen}
    r.results["latency"] = {
        "delays_ms": r.config["latency_ms"],
        "events": len(events),
        "targets": sweep,
    }
    order = list(chosen)
    if len(chosen) > 1:
        order += [t for t in chosen if t.name == OURS_C]
    try:
        for delay in r.config["latency_ms"]:
            workers_bench.set_delay(emulator, delay / 1000)
            runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in chosen}
            for target in order:
                result = run_target(
                    target,
                    events,
                    emulator,
                    database=pg.PREFIX + "latency_run",
                    concurrency=r.config["concurrency"],
                    workers=r.config["workers"],
                    time_limit=r.config["webhook_time_limit"],
                )
                runs[target.name].append(result)
                log(
                    f"{target.name:<24} delay {delay:>3} ms: {result['per_s']:7.1f} ev/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  "
                    f"{result['api_calls_per_event']:.2f} calls/ev  "
                    f"ok {result['ok']}/{result['sent']}"
                )
            for name, these in runs.items():
                sweep[name].append({**_mean_of(these), "delay_ms": delay})
    finally:
        workers_bench.set_delay(emulator, 0)


def _mean_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run as it is; several: their mean rates and latencies, counts summed, all kept."""
    if len(runs) == 1:
        return dict(runs[0])
    merged = dict(runs[-1])
    for key in ("per_s", "p50_ms", "p99_ms", "api_calls_per_event"):
        merged[key] = statistics.fmean(float(run[key]) for run in runs)
    for key in ("ok", "sent"):
        merged[key] = sum(int(run[key]) for run in runs)
    merged["runs"] = runs
    return merged
