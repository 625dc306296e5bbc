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
    for drain in work.get("drains", []):
        rss = max(drain.get("peak_rss_mb") or [0.0]) or None
        rows.append(
            (
                f"Background drain with {drain['workers']} db_worker process(es), events/s "
                "(peak RSS of a worker)",
                f"{_fmt(drain['per_s'])} ({_fmt(rss)} MB)",
                f"RSS {LE} {RSS_LIMIT_MB:g} MB",
                _verdict(None if rss is None or drain.get("timed_out") else rss <= RSS_LIMIT_MB),
            )
        )
    rss = work.get("rss")
    if rss:
        peak = rss.get("peak_rss_mb")
        ok = None if peak is None or not rss.get("applied") else peak <= RSS_LIMIT_MB
        part = f" ({rss['applied']:,} applied in the time limit)" if rss.get("timed_out") else ""
        rows.append(
            (
                f"Peak RSS of one `events process` draining {rss['events']:,} events{part}",
                f"{_fmt(peak)} MB",
                f"{LE} {RSS_LIMIT_MB:g} MB",
                _verdict(ok),
            )
        )
    growth = results.get("growth", {})
    runs = growth.get("runs", {})
    if len(runs) == 2:
        small, big = (runs[str(s)] for s in growth["sizes"])
        ratio = big["p50_ms"] / small["p50_ms"] if small.get("p50_ms") else None
        label = f"{growth['sizes'][1]:,} stored events against {growth['sizes'][0]:,}"
        rows.append(
            (
                f"Ingest p50 latency, log of {label}",
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
    sweep = results.get("latency", {}).get("targets", {})
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
    work = results.get("workers", {})
    if work.get("drains"):
        lines += ["## Background workers", ""]
        lines += [
            f"The stream ({work['events']} events) is stored and enqueued by gunicorn with "
            '`WEBHOOK_PROCESSING = "task"` (Django\'s tasks framework, the `django-tasks-db` '
            "backend), then applied by `manage.py db_worker` processes started as a deployment "
            "starts them, each count on a fresh copy of that backlog; timed until no event is "
            "left to apply and no task waits.",
            "",
            "| db_worker processes | events/s | seconds | peak RSS per worker, MB | events | "
            "failed tasks |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for d in work["drains"]:
            rss = ", ".join(f"{x:g}" for x in d.get("peak_rss_mb", [])) or "n/a"
            statuses = ", ".join(f"{k}: {v}" for k, v in d.get("statuses", {}).items())
            timed = " (timed out)" if d.get("timed_out") else ""
            lines.append(
                f"| {d['workers']} | {_fmt(d['per_s'])}{timed} | {_fmt(d['seconds'])} | {rss} | "
                f"{statuses} | {d.get('failed_tasks')} |"
            )
        rss = work.get("rss")
        if rss:
            lines += [
                "",
                f"One `payments_sync events process` applied {rss.get('applied', 0):,} of "
                f"{rss['events']:,} received events "
                "(the stream's backlog and copies of it under new ids) in "
                f"{_fmt(rss['seconds'])} s ({_fmt(rss['per_s'])} events/s), peak RSS "
                f"{_fmt(rss.get('peak_rss_mb'))} MB; {rss.get('left_received')} left received.",
            ]
        lines.append("")
    growth = results.get("growth", {})
    if growth.get("runs"):
        lines += ["## A growing log", ""]
        lines += [
            f"The stream's first {growth.get('events', '?')} events through the sync endpoint "
            "(customer lock) on a log that already holds that many settled events, bulk-loaded "
            "by SQL (and analysed) before the run.",
            "",
            "| Stored events | events/s | p50 ms | p99 ms | SQL queries/event |",
            "| --- | --- | --- | --- | --- |",
        ]
        for size, run in growth["runs"].items():
            lines.append(
                f"| {int(size):,} | {_fmt(run['per_s'])} | {_fmt(run['p50_ms'])} | "
                f"{_fmt(run['p99_ms'])} | {_fmt(run['data_queries_per_request'], 2)} |"
            )
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
            "connections, gunicorn with 2 workers.",
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
