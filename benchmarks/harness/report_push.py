"""The report's push figures (issue 18): ops/s reached against the rate budget, target >= 90%."""

from __future__ import annotations

from typing import Any

GE, TIMES = "\u2265", "\u00d7"
#: The share of its rate budget the push must reach.
TARGET = 0.9
RUNS = (("full", "whole catalog, raised budget"), ("default", "default budget (test mode)"))


def _verdict(run: dict[str, Any]) -> str:
    if run["outcome"].get("failures"):
        return f"missed: {run['outcome']['failures']} rows failed"
    if run["of_budget"] >= TARGET:
        return "met"
    return f"missed: {run['of_budget'] / TARGET:.2f}{TIMES} of the target"


def table_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, verdict) rows for the headline table."""
    push = results.get("push") or {}
    rows = []
    for key, what in RUNS:
        run = push.get(key)
        label = f"Catalog push, {what}: ops/s against the rate budget"
        if not run:
            rows.append((label, "not measured", f"{GE} {TARGET:.0%}", "not measured"))
            continue
        rows.append(
            (
                f"Catalog push of {run['products']:,} products {TIMES} 2 prices, {what}: "
                f"ops/s against {run['budget']:g} ops/s",
                f"{run['ops_per_s']:,.1f} ({run['of_budget']:.0%})",
                f"{GE} {TARGET:.0%} of the budget",
                _verdict(run),
            )
        )
    return rows


def section(results: dict[str, Any]) -> list[str]:
    push = results.get("push")
    if not push:
        return []
    lines = [
        "## Catalog push against its rate budget",
        "",
        "`push_all` (what `payments_sync push` runs) pushes a catalog saved locally and never "
        "pushed into a fresh emulator process, its threads sharing one token bucket of the "
        "budget (a burst of one second's worth, then the rate). The whole catalog runs at a "
        "raised budget (at Stripe's test-mode 25 operations/s its 30,000 operations take 20 "
        "minutes); a smaller one at the default. Operations are the requests the emulator "
        "answered (listings included).",
        "",
        "| Run | products | budget, ops/s | threads | operations | seconds | ops/s | of budget "
        "| second push, calls | outcome |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, what in RUNS:
        run = push.get(key)
        if not run:
            continue
        outcome = ", ".join(f"{k} {v}" for k, v in run["outcome"].items())
        lines.append(
            f"| {what} | {run['products']:,} | {run['budget']:g} | {run['concurrency']} "
            f"| {run['ops']:,} | {run['seconds']:.1f} | {run['ops_per_s']:,.1f} "
            f"| {run['of_budget']:.0%} | {run['second_push_calls']} | {outcome} |"
        )
    lines.append("")
    return lines
