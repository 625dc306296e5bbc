"""run_all.py's push section: the catalog push against its rate budget (issue 18)."""

# Two runs, each on a fresh database and a fresh emulator process: the whole catalog
# (push_products x 2 prices) at push_fast_rate operations/s (30,000 operations at Stripe's
# test-mode 25/s would take 20 minutes), and push_short_products at the default budget, 25/s.
# Each reports the operations a second it reached against its budget; the target is >= 90%.

from __future__ import annotations

import time
from typing import Any

from . import pg
from .procs import PROJECT_PYTHON, Emulator, last_json, run

OURS = "benchmarks.harness.ours.settings"
#: Stripe's test-mode limit: the push's default budget with a test key.
DEFAULT_BUDGET = 25.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def push_run(r: Any, products: int, rate: float, concurrency: int | None, name: str) -> Any:
    database = pg.PREFIX + "push_" + name
    with Emulator(name=f"emulator-push-{name}") as emulator:
        pg.create_database(database, template=pg.PREFIX + "ours_clean")
        try:
            args = [
                str(PROJECT_PYTHON),
                "-m",
                "benchmarks.harness.push_bench",
                "--products",
                str(products),
                "--rate",
                str(rate),
                "--stats-url",
                f"http://127.0.0.1:{emulator.stats_port}/stats",
            ]
            if concurrency:
                args += ["--concurrency", str(concurrency)]
            result = last_json(run(args, r.env(OURS, database, emulator), timeout=1800))
        finally:
            pg.drop_database(database)
    log(
        f"push of {products:,} products x 2 prices at {rate:g} ops/s: {result['ops']:,} ops in "
        f"{result['seconds']:.1f} s = {result['ops_per_s']:.1f} ops/s "
        f"({result['of_budget']:.0%} of the budget), {result['concurrency']} threads, "
        f"{result['outcome']}; second push {result['second_push_calls']} calls"
    )
    return result


def run_section(r: Any) -> None:
    out: dict[str, Any] = {}
    r.results["push"] = out
    out["full"] = push_run(
        r,
        r.config["push_products"],
        r.config["push_fast_rate"],
        r.config.get("push_fast_concurrency"),
        "full",
    )
    out["default"] = push_run(r, r.config["push_short_products"], DEFAULT_BUDGET, None, "default")
