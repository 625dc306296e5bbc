"""The report's figures beyond ingest (issue 18): queries per event by type, background workers,
memory, a growing log and provider latency, each with its target and verdict; the latency chart.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

TIMES, DASH, GE, LE = "\u00d7", "\u2013", "\u2265", "\u2264"
OURS_C = "ours (lock: customer)"
DJSTRIPE = "dj-stripe 2.11"
#: The common event types and the most SQL queries each may cost (issue 18: at most 5).
COMMON_TYPES = (
    "customer.updated",
    "customer.tax_id.created",
    "invoice.paid",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
QUERY_BUDGET = 5
RSS_LIMIT_MB = 150.0
#: Ingest on a big log against a small one: latency within this factor, queries the same.
GROWTH_LATENCY_LIMIT = 1.25
#: Queries per event move a little with arrival order (a tie in the same second reads the last
#: event applied): the same within this.
QUERY_TOLERANCE = 0.05
PM = "\u00b1"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _verdict(ok: bool | None, short: str = "") -> str:
    if ok is None:
        return "not measured"
    return "met" if ok else f"missed{': ' + short if short else ''}"


def _ours_runs(results: dict[str, Any]) -> list[dict[str, Any]]:
    return results.get("webhooks", {}).get("targets", {}).get(OURS_C, {}).get("runs", [])


def queries_by_type(results: dict[str, Any]) -> dict[str, float]:
    """Median over repetitions of each type's median data queries, ours (customer lock)."""
    per: dict[str, list[float]] = {}
    for run in _ours_runs(results):
        for tag, n in (run.get("data_queries_by_tag") or {}).items():
            per.setdefault(tag, []).append(float(n))
    return {tag: statistics.median(v) for tag, v in sorted(per.items())}


def table_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, verdict) rows for the headline table."""
    rows: list[tuple[str, str, str, str]] = []
    by_type = queries_by_type(results)
    for tag in COMMON_TYPES:
        value = by_type.get(tag)
        ok = None if value is None else value <= QUERY_BUDGET
        short = f"{value - QUERY_BUDGET:g} over" if value is not None else ""
        rows.append(
            (
                f"SQL queries per `{tag}` request (mail hooks included), ours (lock: customer)",
                _fmt(value, 0),
                f"{LE} {QUERY_BUDGET}",
                _verdict(ok, short),
            )
        )
    work = results.get("workers", {})
    rows += drain_rows(work.get("drains", []))
    rss = work.get("rss")
    if rss:
        peak = rss.get("peak_rss_mb")
        ok = None if peak is None or not rss.get("applied") else peak <= RSS_LIMIT_MB
        if rss.get("stop_after"):
            label = (
                f"Peak RSS of one `events process` streaming a {rss['events']:,}-event backlog "
                f"(stopped after {rss['applied']:,} applied)"
            )
        else:
            part = (
                f" ({rss['applied']:,} applied in the time limit)" if rss.get("timed_out") else ""
            )
            label = f"Peak RSS of one `events process` draining {rss['events']:,} events{part}"
        rows.append((label, f"{_fmt(peak)} MB", f"{LE} {RSS_LIMIT_MB:g} MB", _verdict(ok)))
    growth = results.get("growth", {})
    runs = growth.get("runs", {})
    if len(runs) == 2:
        small, big = (runs[str(s)] for s in growth["sizes"])
        ratios = growth.get("p50_ratios") or []
        if ratios:
            # Paired by repetition (each ran both logs, alternating which went first).
            ratio = statistics.median(ratios)
        else:
            ratio = big["p50_ms"] / small["p50_ms"] if small.get("p50_ms") else None
        label = f"{growth['sizes'][1]:,} stored events against {growth['sizes'][0]:,}"
        paired = f" (median of {len(ratios)} paired runs)" if len(ratios) > 1 else ""
        rows.append(
            (
                f"Ingest p50 latency, log of {label}{paired}",
                f"{_fmt(ratio, 2)}{TIMES}",
                f"{LE} {GROWTH_LATENCY_LIMIT:g}{TIMES}",
                _verdict(None if ratio is None else ratio <= GROWTH_LATENCY_LIMIT),
            )
        )
        q_small, q_big = small["data_queries_per_request"], big["data_queries_per_request"]
        rows.append(
            (
                f"SQL queries per event, log of {label}",
                f"{_fmt(q_big, 2)} vs {_fmt(q_small, 2)}",
                f"the same ({PM} {QUERY_TOLERANCE:g})",
                _verdict(abs(q_big - q_small) <= QUERY_TOLERANCE),
            )
        )
    rows += explain_rows(growth.get("explain"), growth.get("sizes"))
    sweep = results.get("latency", {}).get("targets", {})
    rows += sweep_rows(results.get("latency", {}))
    ours = sweep.get(OURS_C, [])
    if len(ours) >= 2 and ours[0].get("per_s"):
        kept = ours[-1]["per_s"] / ours[0]["per_s"]
        rows.append(
            (
                f"Ours with {ours[-1]['delay_ms']} ms per provider call / with none (0 calls "
                "per event)",
                f"{kept:.2f}{TIMES}",
                f"{GE} 0.9{TIMES}",
                _verdict(kept >= 0.9),
            )
        )
    rows += api_rows(results.get("api"))
    rows += run_time_rows(results)
    return rows


#: The whole run's time limit by mode, in minutes (issue 18: on this 2-core machine).
RUN_MINUTES = {"full": 20.0, "quick": 3.0}


def run_time_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """This run's wall time against its mode's limit (the load average says how shared)."""
    mode = results.get("config", {}).get("mode")
    total = results.get("total_seconds")
    if mode not in RUN_MINUTES or not total or results.get("config", {}).get("only"):
        return []  # a part of a run (--only) has no limit of its own
    env = results.get("environment", {})
    load = env.get("load_average_at_start") or []
    at = f", load average at start {load[0]:.1f}" if load else ""
    limit = RUN_MINUTES[mode]
    return [
        (
            f"Wall time of this `run_all.py{' --quick' if mode == 'quick' else ''}` run "
            f"({env.get('cpus', '?')} CPUs{at}; by section below)",
            f"{total / 60:.1f} min",
            f"{LE} {limit:g} min",
            _verdict(total / 60 <= limit),
        )
    ]


#: The worker kinds the drain runs on, as the report names them.
RUNNERS = {
    "db_worker": "django-tasks-db `db_worker`",
    "celery": "Celery (RabbitMQ) `celery worker --pool=solo`",
}


def _once(value: bool | None) -> str:
    if value is None:
        return "not checked"
    return "exactly once" if value else "NOT exactly once"


def drain_rows(drains: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """One row per runner and worker count: events/s, a worker's peak RSS, exactly once."""
    rows = []
    for drain in drains:
        runner = RUNNERS.get(drain.get("runner", "db_worker"), drain.get("runner", "?"))
        rss = max(drain.get("peak_rss_mb") or [0.0]) or None
        once = drain.get("exactly_once")
        ok = None if rss is None or drain.get("timed_out") else rss <= RSS_LIMIT_MB
        if ok and once is False:
            ok = False
        rows.append(
            (
                f"Background drain, {drain['workers']} {runner} process(es): events/s "
                "(peak RSS of a worker; every event applied once)",
                f"{_fmt(drain['per_s'])} ({_fmt(rss)} MB; {_once(once)})",
                f"reported; RSS {LE} {RSS_LIMIT_MB:g} MB; exactly once",
                _verdict(ok),
            )
        )
    return rows


def explain_rows(
    explain: dict[str, Any] | None, sizes: list[int] | None
) -> list[tuple[str, str, str, str]]:
    """The hot lookups' plans on the big log: each uses an index, none scans the table."""
    if not explain:
        return []
    used = [name for name, plan in explain.items() if plan.get("index")]
    size = f"{sizes[-1]:,}" if sizes else "the big"
    return [
        (
            f"The hot lookups on the log of {size} events use an index (`EXPLAIN`: "
            f"{', '.join(explain)}; also asserted in `tests/webhooks/test_retention.py`)",
            f"{len(used)} of {len(explain)}",
            "all",
            _verdict(len(used) == len(explain)),
        )
    ]


def sweep_rows(latency: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The latency sweep itself: every delay run for ours and dj-stripe, and its chart."""
    sweep = latency.get("targets", {})
    if not sweep:
        return []
    delays = latency.get("delays_ms", [])
    parts = []
    complete = bool(delays)
    for name in (OURS_C, DJSTRIPE):
        runs = sweep.get(name, [])
        complete = complete and [r["delay_ms"] for r in runs] == list(delays)
        if runs:
            parts.append(f"{name} " + " / ".join(_fmt(r["per_s"]) for r in runs))
    chart = latency.get("chart")
    measured = "; ".join(parts) + " ev/s" + (f"; chart `{chart}`" if chart else "; no chart")
    return [
        (
            "Throughput against provider latency ("
            + ", ".join(f"{d} ms" for d in delays)
            + " per call), ours and dj-stripe, with a chart",
            measured,
            "both swept, chart drawn",
            _verdict(complete and bool(chart)),
        )
    ]


#: The API's query budgets (issue 18), the whole request as the WSGI wrapper counts it.
API_BUDGETS = {"GET /api/payment/billing/": 3, "PATCH /api/payment/billing/": 8}


def api_rows(api: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """SQL queries per billing request against the budget (session and user included)."""
    rows = []
    for kind, budget in API_BUDGETS.items():
        s = (api or {}).get(kind, {}).get("data_queries_per_request") or {}
        value = s.get("median") if s.get("n") else None
        short = f"{value - budget:g} over" if value is not None else ""
        rows.append(
            (
                f"SQL queries per `{kind}` request (session and user lookups included)",
                _fmt(value, 0),
                f"{LE} {budget}",
                _verdict(None if value is None else value <= budget, short),
            )
        )
    return rows


def sections(results: dict[str, Any], chart: str | None) -> list[str]:
    """The report's sections for the workers, the growing log and the latency sweep."""
    lines: list[str] = []
    by_type = queries_by_type(results)
    if by_type:
        lines += ["## SQL queries per event, by type", ""]
        lines += [
            "Median per type over the ingest run of ours (lock: customer), the whole request as "
            "the WSGI wrapper counts it (savepoints excluded): with the site's defaults, so the "
            "mail hooks that run after the commit (a paid invoice, a cancellation) are included, "
            "where the query-budget test (`tests/webhooks/test_queries.py`) counts the event's "
            "processing with mail off.",
            "",
            "| Event type | queries |",
            "| --- | --- |",
        ]
        lines += [f"| `{tag}` | {n:g} |" for tag, n in by_type.items()]
        lines.append("")
    lines += _workers_section(results.get("workers", {}))
    growth = results.get("growth", {})
    if growth.get("runs"):
        lines += ["## A growing log", ""]
        lines += [
            f"The stream's first {growth.get('events', '?')} events through the sync endpoint "
            "(customer lock) on a log that already holds that many settled events, bulk-loaded "
            "by SQL (and analysed) before the run; "
            + (
                f"{growth['reps']} repetitions, each on a fresh copy of both logs, alternating "
                "which goes first: medians, and the p50 ratio paired by repetition."
                if growth.get("reps", 1) > 1
                else "one run of each."
            ),
            "",
            "| Stored events | events/s | p50 ms | p99 ms | SQL queries/event |",
            "| --- | --- | --- | --- | --- |",
        ]
        for size, run in growth["runs"].items():
            lines.append(
                f"| {int(size):,} | {_fmt(run['per_s'])} | {_fmt(run['p50_ms'])} | "
                f"{_fmt(run['p99_ms'])} | {_fmt(run['data_queries_per_request'], 2)} |"
            )
        ratios = growth.get("p50_ratios") or []
        if len(ratios) > 1:
            lines += [
                "",
                "p50 on the big log over the small one, by repetition: "
                + ", ".join(f"{x:.2f}" for x in ratios)
                + ".",
            ]
        lines.append("")
    sweep = results.get("latency", {}).get("targets", {})
    if any(sweep.values()):
        lines += ["## Provider latency", ""]
        if chart:
            # Named, not embedded: docs/benchmarks.md includes this section and shows its own
            # copy of the chart (docs/img/benchmarks_latency_sweep.png).
            lines += [f"The chart: `{chart}`, beside this report.", ""]
        lines += [
            "Every provider API call answered after a fixed delay (the emulator's `delay` "
            f"fault); the stream's first {results['latency'].get('events', '?')} events, 8 "
            "connections, gunicorn with 2 workers."
            + (
                " At each delay ours ran before and after dj-stripe: the mean of the two."
                if any(run.get("runs") for run in sweep.get(OURS_C, []))
                else ""
            ),
            "",
            "| Target | delay ms | events/s | p50 ms | provider calls/event |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, runs in sweep.items():
            for run in runs:
                lines.append(
                    f"| {name} | {run['delay_ms']} | {_fmt(run['per_s'])} | "
                    f"{_fmt(run['p50_ms'])} | {_fmt(run['api_calls_per_event'], 2)} |"
                )
        lines.append("")
    return lines


def latency_chart(results: dict[str, Any], path: Path) -> bool:
    """Throughput against the delay per provider call, one line per target (matplotlib)."""
    sweep = {k: v for k, v in results.get("latency", {}).get("targets", {}).items() if v}
    if not sweep:
        return False
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    for name, runs in sweep.items():
        ax.plot([r["delay_ms"] for r in runs], [r["per_s"] for r in runs], marker="o", label=name)
    ax.set_xlabel("delay per provider API call (ms)")
    ax.set_ylabel("webhook events/s")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Webhook throughput against provider latency", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def _workers_section(work: dict[str, Any]) -> list[str]:
    if not work.get("drains"):
        return []
    reference = work.get("in_order") or {}
    lines = ["## Background workers", ""]
    lines += [
        f"The stream ({work['events']} events) is stored by gunicorn with "
        '`WEBHOOK_PROCESSING = "task"` (a backlog), then applied by worker processes started as '
        "a deployment starts them, each count on a fresh copy of that backlog; timed until no "
        "event is left to apply and no task waits. django-tasks-db: `manage.py db_worker` "
        "processes run the tasks the endpoint enqueued. Celery: one message per event is sent "
        "to a queue of its own on RabbitMQ, oldest first, by the library's "
        "`enqueue_webhook_event` (the call the endpoint makes after each commit in "
        '`"celery"` mode), then `celery worker --pool=solo` processes (one task at a time '
        "each, Celery's default prefetch of 4, the tasks acknowledged late) apply them. "
        "Exactly once: every event settled (none left received or failed), no task failed or "
        "left in the queue, and the local state (users, customers, subscriptions, every "
        "event's status) equal to that of one in-order `payments_sync events process` on a "
        f"copy of the backlog (state `{reference.get('state', 'n/a')}`, "
        f"{_fmt(reference.get('seconds'))} s).",
        "",
        "| worker | processes | events/s | seconds | peak RSS per worker, MB | events | "
        "failed tasks | exactly once |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in work["drains"]:
        rss = ", ".join(f"{x:g}" for x in d.get("peak_rss_mb", [])) or "n/a"
        statuses = ", ".join(f"{k}: {v}" for k, v in d.get("statuses", {}).items())
        timed = " (timed out)" if d.get("timed_out") else ""
        once = _once(d.get("exactly_once"))
        if d.get("exactly_once") is False:
            once += f" (state `{d.get('state')}`, {d.get('left_in_queue')} left queued)"
        lines.append(
            f"| {RUNNERS.get(d.get('runner', 'db_worker'), d.get('runner'))} | {d['workers']} | "
            f"{_fmt(d['per_s'])}{timed} | {_fmt(d['seconds'])} | {rss} | {statuses} | "
            f"{d.get('failed_tasks')} | {once} |"
        )
    rss = work.get("rss")
    if rss:
        quarters = rss.get("peak_rss_by_quarter") or {}
        trend = (
            " (peak so far at each quarter of the way: "
            + ", ".join(f"{k} {v:g} MB" for k, v in quarters.items())
            + ")"
            if quarters
            else ""
        )
        stop = (
            f", stopped once it had applied {rss['stop_after']:,} (the backlog is all "
            f"{rss['events']:,} rows: a drain that loaded them at once would peak at the start)"
            if rss.get("stop_after")
            else ""
        )
        lines += [
            "",
            f"One `payments_sync events process` applied {rss.get('applied', 0):,} of "
            f"{rss['events']:,} received events "
            f"(the stream's backlog and copies of it under new ids){stop} in "
            f"{_fmt(rss['seconds'])} s ({_fmt(rss['per_s'])} events/s), peak RSS "
            f"{_fmt(rss.get('peak_rss_mb'))} MB{trend}; {rss.get('left_received')} left received.",
        ]
    lines.append("")
    return lines
