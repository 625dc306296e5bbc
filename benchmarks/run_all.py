"""Run every benchmark (webhooks, catalog sync, API, migrations) and write benchmarks/results/."""

#     .venv/bin/python benchmarks/run_all.py            # the full run (under 20 minutes)
#     .venv/bin/python benchmarks/run_all.py --quick    # a smoke run (under 3 minutes)
#
# Needs the machine's PostgreSQL (BENCH_POSTGRES, default postgresql://root@127.0.0.1:5432/postgres)
# and, the first time, PyPI for dj-stripe's own virtual environment under benchmarks/.work/.
# Everything else runs on 127.0.0.1. See benchmarks/README.md.

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from benchmarks.djstripe import make_venv  # noqa: E402
from benchmarks.harness import api_bench, extra_sections, pg, push_section, report  # noqa: E402
from benchmarks.harness.procs import (  # noqa: E402
    PROJECT_PYTHON,
    WORK,
    Emulator,
    Gunicorn,
    bench_env,
    last_json,
    run,
)
from benchmarks.harness.stats import summary  # noqa: E402
from benchmarks.harness.webhook_bench import Target, run_target  # noqa: E402

OURS = "benchmarks.harness.ours.settings"
OURS_WSGI = "benchmarks.harness.ours.wsgi:application"
CEILING = "benchmarks.ceiling.settings"
DJSTRIPE = "benchmarks.djstripe.settings"
WEBHOOK_PATH = "/api/payment/stripe/webhook/"
# What each receiver stored, for the report: processed in all, the rest by status and type.
OURS_STORED = (
    "SELECT CASE WHEN status = 'processed' THEN status ELSE status || ' ' || type END, count(*) "
    "FROM django_payments_sync_webhookevent GROUP BY 1 ORDER BY 2 DESC"
)
DJSTRIPE_STORED = (
    "SELECT CASE WHEN processed THEN 'processed' "
    "WHEN valid THEN 'failed ' || (body::jsonb->>'type') ELSE 'invalid' END, count(*) "
    "FROM djstripe_webhookeventtrigger GROUP BY 1 ORDER BY 2 DESC"
)

FULL = {
    "customers": 200,
    "webhook_reps": 3,
    "concurrency": 8,
    "workers": 2,
    "catalog_products": 1000,
    "catalog_reps": 1,
    # The catalog push against its rate budget: push_products x 2 prices at push_fast_rate
    # ops/s (push_fast_concurrency threads), then push_short_products at the default 25/s.
    # 100 ops/s is the live-mode budget (Stripe's live rate limit), the second target.
    "push_products": 10_000,
    "push_fast_rate": 100.0,
    "push_fast_concurrency": 16,
    "push_short_products": 250,
    "api_requests": 400,
    "api_reps": 3,
    "migrate_reps_ours": 3,
    # dj-stripe's migrations take about a minute, 50 times ours (the target is 10): once.
    "migrate_reps_djstripe": 1,
    "webhook_time_limit": 300.0,
    # Background workers: drain a backlog of the stream's first drain_events events with this
    # many worker processes of each runner (each on a fresh copy): django-tasks-db's db_worker,
    # and Celery on RabbitMQ (`celery worker --pool=solo`, one task at a time per process).
    "drain_workers": [1, 2, 4],
    "drain_runners": ["db_worker", "celery"],
    "drain_events": 500,
    # The first events of the stream for the growing-log and the latency runs.
    "growth_events": 1000,
    "latency_events": 240,
    # One `events process` streams a backlog of this many events (its peak RSS is reported)...
    "rss_events": 10_000,
    # ...stopped once it applied this many (the backlog stays rss_events rows; the peak is
    # noted at each quarter, so growth shows), or after this many seconds.
    "rss_stop_after": 2_500,
    "rss_time_limit": 180.0,
    # A log of this many settled events against one of the small size (ingest stays flat),
    # each run this many times, alternating which goes first (the p50 ratio is paired).
    "log_sizes": [1_000, 1_000_000],
    "growth_reps": 3,
    # A delay on every provider call, in ms (the emulator's delay fault).
    "latency_ms": [0, 50, 150],
    # The whole run's budget: webhook repetitions beyond the first, and dj-stripe's second
    # migration, run only while the rest still fits (the report says how many ran).
    "budget_minutes": 20.0,
    # Time kept for the sections after the webhooks (workers, growth, latency, API, catalog,
    # push, migrations) when no earlier run of this mode says what they take: each run reads
    # what they took in the last report of the same mode (results/latest.json), plus 5%
    # (reserve_for). 13 minutes is what they took on this 2-core machine (2026-12-03).
    "reserve_minutes": 13.0,
}
QUICK = {
    **FULL,
    "customers": 20,
    "webhook_reps": 1,
    "catalog_products": 100,
    "push_products": 400,
    "push_short_products": 60,
    "api_requests": 80,
    "api_reps": 1,
    "migrate_reps_ours": 1,
    "migrate_reps_djstripe": 1,
    "webhook_time_limit": 120.0,
    "log_sizes": [1_000, 100_000],
    "growth_reps": 1,
    "rss_events": 2_000,
    "rss_stop_after": 500,
    "rss_time_limit": 40.0,
    "latency_ms": [0, 150],
    # One worker count of each runner (the full run reports 1, 2 and 4): each drain starts
    # its workers, which is most of a small drain's time.
    "drain_workers": [2],
    "drain_events": 120,
    "growth_events": 200,
    "latency_events": 60,
}

#: The sections that run after the webhooks: the time they need is kept from the budget.
AFTER_WEBHOOKS = ("workers", "growth", "latency", "api", "catalog", "push", "migrations")


def reserve_for(config: dict[str, Any], wanted: set[str], last: Path) -> tuple[float, str]:
    """Minutes to keep for the sections after the webhooks, and where the figure comes from.

    What the wanted ones took in the last report of the same mode (``last``: latest.json),
    with 5% to spare; ``config["reserve_minutes"]`` (scaled to the wanted share) when there
    is none, or it is of another mode, or it did not run them all.
    """
    after = [name for name in AFTER_WEBHOOKS if name in wanted]
    try:
        previous = json.loads(last.read_text())
        same_mode = previous["config"].get("mode") == config["mode"]
        seconds = previous["section_seconds"]
        if same_mode and all(name in seconds for name in after):
            minutes = sum(float(seconds[name]) for name in after) / 60 * 1.05
            return minutes, f"the last {config['mode']} run's sections after the webhooks, +5%"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    share = len(after) / len(AFTER_WEBHOOKS)
    return config["reserve_minutes"] * share, "the configured estimate"


#: The sections after the setup, in the order they run (``--only`` picks some).
SECTIONS = ("webhooks", "workers", "growth", "latency", "api", "catalog", "push", "migrations")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Run:
    """State shared by the sections of one run: config, processes, templates, results."""

    def __init__(self, config: dict[str, Any], djstripe_python: Path | None) -> None:
        self.config = config
        self.djs_python = djstripe_python
        self.results: dict[str, Any] = {"config": config, "problems": []}
        self.started = time.monotonic()
        #: Minutes kept for the sections after the webhooks (:func:`reserve_for`).
        self.reserve_minutes = float(config["reserve_minutes"])

    def minutes_left(self) -> float:
        return self.config["budget_minutes"] - (time.monotonic() - self.started) / 60

    def problem(self, where: str, exc: BaseException | str) -> None:
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        log(f"PROBLEM in {where}: {text[:2000]}")
        if not isinstance(exc, str):
            traceback.print_exc()
        self.results["problems"].append({"where": where, "what": text[:3000]})

    # --- helpers ---------------------------------------------------------------------

    def env(self, settings: str, database: str, emulator: Emulator | None, **extra: str) -> dict:
        values = {
            "DJANGO_SETTINGS_MODULE": settings,
            "BENCH_DATABASE_URL": pg.database_url(database),
        }
        if emulator is not None:
            values["BENCH_STRIPE_API_BASE"] = emulator.url
        return bench_env(**values, **extra)

    def migrate(
        self, python: Path, settings: str, database: str, app: str, before: list[str]
    ) -> dict[str, Any]:
        """Create ``database`` fresh, time ``migrate app``, then migrate the rest untimed."""
        pg.create_database(database)
        env = self.env(settings, database, None)
        timed = last_json(
            run(
                [str(python), "-m", "benchmarks.harness.time_migrate", app, "--before", *before],
                env,
            )
        )
        run([str(python), "-m", "django", "migrate", "-v0"], env)
        timed["tables_total"] = pg.count_tables(pg.database_url(database))
        return timed


def section(run_state: Run, name: str, body: Callable[[], None]) -> None:
    started = time.perf_counter()
    log(f"== {name}")
    try:
        body()
    except Exception as exc:
        run_state.problem(name, exc)
    run_state.results.setdefault("section_seconds", {})[name] = time.perf_counter() - started
    run_state.results.setdefault("section_load", {})[name] = os.getloadavg()


def prepare_templates(r: Run, emulator: Emulator) -> None:
    """Migrated databases to copy from (timing the first migration of each library)."""
    migrations = r.results.setdefault("migrations", {"ours": [], "djstripe": []})
    migrations["ours"].append(
        r.migrate(
            PROJECT_PYTHON,
            OURS,
            pg.PREFIX + "ours_clean",
            "django_payments_sync",
            ["contenttypes", "auth"],
        )
    )
    log(f"ours migrated in {migrations['ours'][-1]['seconds']:.2f} s")
    pg.create_database(pg.PREFIX + "ceiling_tmpl")
    run(
        [str(PROJECT_PYTHON), "-m", "django", "migrate", "-v0"],
        r.env(CEILING, pg.PREFIX + "ceiling_tmpl", None),
    )
    if r.djs_python:
        djstripe_clean(r)

    # The account the events come from: local customers and plans pushed by the library, then
    # their history at the provider; the stream is what the emulator emitted for it.
    pg.create_database(pg.PREFIX + "ours_tmpl", template=pg.PREFIX + "ours_clean")
    out = WORK / "stream.json"
    summary_line = last_json(
        run(
            [
                str(PROJECT_PYTHON),
                "-m",
                "benchmarks.harness.stream",
                "--customers",
                str(r.config["customers"]),
                "--out",
                str(out),
            ],
            r.env(OURS, pg.PREFIX + "ours_tmpl", emulator),
        )
    )
    r.results["stream"] = summary_line
    for problem in summary_line.get("problems", []):
        r.problem("stream", problem)
    log(f"stream: {summary_line['kept']} events, mix {summary_line['mix']}")

    if r.djs_python:
        # dj-stripe as its users set it up: a webhook endpoint created at the provider and
        # mirrored locally, and the catalog synced before events arrive.
        pg.create_database(pg.PREFIX + "djstripe_tmpl", template=pg.PREFIX + "djstripe_clean")
        prepared = last_json(
            run(
                [
                    str(r.djs_python),
                    "-m",
                    "benchmarks.djstripe.prepare",
                    "--sync",
                    "Product",
                    "Price",
                    "--endpoint-url",
                    "http://127.0.0.1/stripe/webhook/",
                ],
                r.env(DJSTRIPE, pg.PREFIX + "djstripe_tmpl", emulator),
            )
        )
        r.results["djstripe_setup"] = prepared
        r.djs_endpoint = prepared["endpoint"]


def djstripe_clean(r: Run) -> None:
    """dj-stripe's migrated database: migrated and timed here (and kept for later runs), or in
    --quick a copy of the one an earlier run kept, its time reported as that run's (about a
    minute saved: dj-stripe's migrations are most of a quick run's setup)."""
    migrations = r.results["migrations"]
    versions = r.results["environment"].get("djstripe_env", {})
    settings = (REPO / "benchmarks" / "djstripe" / "settings.py").read_bytes()
    key = hashlib.sha1(json.dumps(versions, sort_keys=True).encode() + settings).hexdigest()[:10]
    kept = f"{pg.KEEP}djstripe_{key}"
    meta = WORK / f"djstripe_migrated_{key}.json"
    clean = pg.PREFIX + "djstripe_clean"
    if r.config["mode"] == "quick" and meta.exists() and pg.exists(kept):
        pg.create_database(clean, template=kept)
        timed = {**json.loads(meta.read_text()), "cached": True}
        migrations["djstripe"].append(timed)
        log(f"dj-stripe: the migrated database of {timed['date_utc']} ({timed['seconds']:.2f} s)")
        return
    timed = r.migrate(r.djs_python, DJSTRIPE, clean, "djstripe", ["contenttypes", "auth"])
    migrations["djstripe"].append(timed)
    log(f"dj-stripe migrated in {timed['seconds']:.2f} s")
    pg.create_database(kept, template=clean)
    meta.write_text(
        json.dumps({**timed, "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    )


def webhook_targets(r: Run) -> list[Target]:
    targets = [
        Target(
            "ours (lock: customer)",
            PROJECT_PYTHON,
            OURS,
            OURS_WSGI,
            pg.PREFIX + "ours_tmpl",
            WEBHOOK_PATH,
            "whsec_bench_ours",
            {"BENCH_LOCK_SCOPE": "customer"},
            OURS_STORED,
        ),
        Target(
            "ours (lock: global)",
            PROJECT_PYTHON,
            OURS,
            OURS_WSGI,
            pg.PREFIX + "ours_tmpl",
            WEBHOOK_PATH,
            "whsec_bench_ours",
            {"BENCH_LOCK_SCOPE": "global"},
            OURS_STORED,
        ),
        Target(
            "ours (task mode)",
            PROJECT_PYTHON,
            OURS,
            OURS_WSGI,
            pg.PREFIX + "ours_tmpl",
            WEBHOOK_PATH,
            "whsec_bench_ours",
            {"BENCH_PROCESSING": "task"},
            OURS_STORED,
        ),
        Target(
            "ceiling",
            PROJECT_PYTHON,
            CEILING,
            "benchmarks.ceiling.wsgi:application",
            pg.PREFIX + "ceiling_tmpl",
            "/webhook/",
            "whsec_bench_ceiling",
            {},
            "SELECT 'stored', count(*) FROM bench_ceiling_receivedevent",
        ),
    ]
    endpoint = getattr(r, "djs_endpoint", None)
    if r.djs_python and endpoint:
        targets.append(
            Target(
                "dj-stripe 2.11",
                r.djs_python,
                DJSTRIPE,
                "benchmarks.djstripe.wsgi:application",
                pg.PREFIX + "djstripe_tmpl",
                f"/stripe/webhook/{endpoint['uuid']}/",
                endpoint["secret"],
                {},
                DJSTRIPE_STORED,
            )
        )
    return targets


def webhooks(r: Run, emulator: Emulator) -> None:
    events = json.loads((WORK / "stream.json").read_text())["events"]
    targets = webhook_targets(r)
    runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
    first_started = time.monotonic()
    for rep in range(r.config["webhook_reps"]):
        if rep:
            per_rep = (time.monotonic() - first_started) / rep / 60
            if r.minutes_left() - r.reserve_minutes < per_rep:
                note = (
                    f"webhooks: {rep} repetition(s) of {r.config['webhook_reps']}, to keep the "
                    f"run within {r.config['budget_minutes']:g} minutes (one takes "
                    f"{per_rep:.1f} min here)"
                )
                r.results.setdefault("notes", []).append(note)
                log(note)
                break
        # Rotate the order so that no target always runs first (or last) on a shared machine.
        order = targets[rep % len(targets) :] + targets[: rep % len(targets)]
        for target in order:
            try:
                result = run_target(
                    target,
                    events,
                    emulator,
                    database=pg.PREFIX + "webhook_run",
                    concurrency=r.config["concurrency"],
                    workers=r.config["workers"],
                    time_limit=r.config["webhook_time_limit"],
                )
            except Exception as exc:
                r.problem(f"webhooks: {target.name}, repetition {rep + 1}", exc)
                continue
            runs[target.name].append(result)
            log(
                f"{target.name:<24} rep {rep + 1}: {result['per_s']:7.1f} ev/s  "
                f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                f"{result['queries_per_request']:5.1f} q/ev  {result['api_calls_per_event']:.2f} "
                f"calls/ev  ok {result['ok']}/{result['sent']}  stored {result['stored']}"
            )
    r.results["webhooks"] = {
        "events": len(events),
        "targets": {name: {"runs": rs, **aggregate(rs)} for name, rs in runs.items()},
    }


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "per_s",
        "p50_ms",
        "p99_ms",
        "queries_per_request",
        "data_queries_per_request",
        "api_calls_per_event",
    )
    return {key: summary([float(x[key]) for x in runs if x.get(key) is not None]) for key in keys}


def api(r: Run, emulator: Emulator) -> None:
    pg.create_database(pg.PREFIX + "api", template=pg.PREFIX + "ours_tmpl")
    env = r.env(OURS, pg.PREFIX + "api", emulator)
    try:
        fixture = last_json(
            run([str(PROJECT_PYTHON), "-m", "benchmarks.harness.ours.api_fixture"], env)
        )
        for problem in fixture["problems"]:
            r.problem("api fixture", problem)
        n = r.config["api_requests"]
        kinds = {
            "GET /api/payment/billing/": lambda: api_bench.billing_requests(
                fixture["sessions"], n, "GET"
            ),
            "PATCH /api/payment/billing/": lambda: api_bench.billing_requests(
                fixture["sessions"], n, "PATCH"
            ),
            "GET /api/payment/plans/": lambda: api_bench.plans_requests(n),
        }
        out: dict[str, Any] = {}
        with Gunicorn(
            PROJECT_PYTHON, OURS_WSGI, env, name="ours-api", workers=r.config["workers"]
        ) as app:
            api_bench.run_kind(app.port, api_bench.plans_requests(16), emulator, 4)  # warm-up
            for kind, make in kinds.items():
                out[kind] = {"runs": []}
                for _rep in range(r.config["api_reps"]):
                    result = api_bench.run_kind(app.port, make(), emulator, r.config["concurrency"])
                    out[kind]["runs"].append(result)
                    log(
                        f"{kind:<30} {result['per_s']:7.1f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                        f"{result['queries_per_request']:5.1f} q/req  "
                        f"{result['api_calls_per_request']:.2f} calls/req  "
                        f"statuses {result['statuses']}"
                    )
                rs = out[kind]["runs"]
                out[kind].update(
                    {
                        key: summary([float(x[key]) for x in rs])
                        for key in (
                            "per_s",
                            "p50_ms",
                            "p99_ms",
                            "queries_per_request",
                            "data_queries_per_request",
                            "api_calls_per_request",
                        )
                    }
                )
        r.results["api"] = out
    finally:
        pg.drop_database(pg.PREFIX + "api")


def catalog(r: Run) -> None:
    products = r.config["catalog_products"]
    out: dict[str, Any] = {"products": products, "ours": [], "djstripe": []}
    r.results["catalog"] = out
    for rep in range(r.config["catalog_reps"]):
        # A fresh emulator: the catalog is all it holds, for both libraries.
        with Emulator(name=f"emulator-catalog-{rep}") as emulator:
            stats_url = f"http://127.0.0.1:{emulator.stats_port}/stats"
            pg.create_database(pg.PREFIX + "catalog_ours", template=pg.PREFIX + "ours_clean")
            try:
                ours = last_json(
                    run(
                        [
                            str(PROJECT_PYTHON),
                            "-m",
                            "benchmarks.harness.catalog_bench",
                            "--products",
                            str(products),
                            "--stats-url",
                            stats_url,
                        ],
                        r.env(OURS, pg.PREFIX + "catalog_ours", emulator),
                    )
                )
            finally:
                pg.drop_database(pg.PREFIX + "catalog_ours")
            out["ours"].append(ours)
            log(
                "ours: first push {:.1f} s / {} calls; unchanged {:.2f} s / {} calls ({} writes); "
                "10 changes {:.2f} s / {} calls".format(
                    ours["first_push"]["seconds"],
                    ours["first_push"]["calls"],
                    ours["unchanged_push"]["seconds"],
                    ours["unchanged_push"]["calls"],
                    ours["unchanged_push"]["writes"],
                    ours["after_10_changes"]["seconds"],
                    ours["after_10_changes"]["calls"],
                )
            )
            if not r.djs_python:
                continue
            pg.create_database(pg.PREFIX + "catalog_djs", template=pg.PREFIX + "djstripe_clean")
            try:
                env = r.env(DJSTRIPE, pg.PREFIX + "catalog_djs", emulator)
                phases = {}
                for phase in ("first_sync", "unchanged_sync"):
                    before = emulator.stats()
                    started = time.perf_counter()
                    done = last_json(
                        run(
                            [
                                str(r.djs_python),
                                "-m",
                                "benchmarks.djstripe.prepare",
                                "--sync",
                                "Product",
                                "Price",
                            ],
                            env,
                        )
                    )
                    wall = time.perf_counter() - started
                    after = emulator.stats()
                    phases[phase] = {
                        "seconds": done["sync"]["seconds"],
                        "process_seconds": wall,
                        "calls": after["total"] - before["total"],
                        "routes": {
                            k: v - before["routes"].get(k, 0)
                            for k, v in after["routes"].items()
                            if v - before["routes"].get(k, 0)
                        },
                        **done,
                    }
                    log(
                        f"dj-stripe {phase}: {done['sync']['seconds']:.1f} s, "
                        f"{phases[phase]['calls']} calls, {done['products']} products and "
                        f"{done['prices']} prices stored; {done['sync'].get('list_errors') or ''}"
                    )
                out["djstripe"].append(phases)
            finally:
                pg.drop_database(pg.PREFIX + "catalog_djs")


def migrations(r: Run) -> None:
    m = r.results.setdefault("migrations", {"ours": [], "djstripe": []})
    for rep in range(1, r.config["migrate_reps_ours"]):
        m["ours"].append(
            r.migrate(
                PROJECT_PYTHON,
                OURS,
                pg.PREFIX + "migrate",
                "django_payments_sync",
                ["contenttypes", "auth"],
            )
        )
        log(f"ours migrate rep {rep + 1}: {m['ours'][-1]['seconds']:.2f} s")
    if r.djs_python:
        for rep in range(1, r.config["migrate_reps_djstripe"]):
            last = m["djstripe"][-1]["seconds"] / 60 if m["djstripe"] else 2.0
            if r.minutes_left() < last * 1.2:
                note = (
                    f"migrations: dj-stripe timed {len(m['djstripe'])} time(s), to keep the run "
                    f"within {r.config['budget_minutes']:g} minutes"
                )
                r.results.setdefault("notes", []).append(note)
                log(note)
                break
            m["djstripe"].append(
                r.migrate(
                    r.djs_python,
                    DJSTRIPE,
                    pg.PREFIX + "migrate",
                    "djstripe",
                    ["contenttypes", "auth"],
                )
            )
            log(f"dj-stripe migrate rep {rep + 1}: {m['djstripe'][-1]['seconds']:.2f} s")
    pg.drop_database(pg.PREFIX + "migrate")
    for side in ("ours", "djstripe"):
        m[f"{side}_seconds"] = summary([x["seconds"] for x in m[side]])


def environment(djs_python: Path | None) -> dict[str, Any]:
    import subprocess

    def version(python: Path, *names: str) -> dict[str, str]:
        code = (
            "import json, importlib.metadata as m; print(json.dumps({n: m.version(n) for n in "
            f"{names!r}}}))"
        )
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
        return json.loads(out.stdout) if out.returncode == 0 else {}

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    import psycopg

    with psycopg.connect(pg.ADMIN_URL) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server,
        "ours": version(
            PROJECT_PYTHON, "Django", "djangorestframework", "stripe", "psycopg", "gunicorn"
        ),
        "djstripe_env": version(djs_python, "dj-stripe", "Django", "stripe", "psycopg", "gunicorn")
        if djs_python
        else {},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and once")
    parser.add_argument("--no-djstripe", action="store_true", help="skip dj-stripe entirely")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results", help="where the report goes"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeatable); the setup always runs",
    )
    parser.add_argument(
        "--customers", type=int, help="customers in the event stream (10 events each)"
    )
    parser.add_argument("--reps", type=int, help="webhook repetitions")
    args = parser.parse_args()
    args.out = args.out.resolve()
    config = dict(QUICK if args.quick else FULL)
    if args.customers:
        config["customers"] = args.customers
    if args.reps:
        config["webhook_reps"] = args.reps
    wanted = set(args.only or SECTIONS)
    config["mode"] = "quick" if args.quick else "full"
    if args.only:
        config["only"] = sorted(wanted)
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    djs_python = None
    if not args.no_djstripe:
        log("dj-stripe environment (created on first use, from PyPI)")
        djs_python = make_venv.ensure_venv()
    r = Run(config, djs_python)
    r.reserve_minutes, source = reserve_for(
        config, wanted, REPO / "benchmarks" / "results" / "latest.json"
    )
    r.results["reserve_minutes"] = {"minutes": r.reserve_minutes, "from": source}
    log(f"keeping {r.reserve_minutes:.1f} min for the sections after the webhooks ({source})")
    r.results["environment"] = environment(djs_python)
    pg.drop_all()
    try:
        with Emulator(name="emulator-webhooks") as emulator:
            section(
                r, "setup: databases and the event stream", lambda: prepare_templates(r, emulator)
            )
            if "stream" in r.results:
                if "webhooks" in wanted:
                    section(r, "webhooks", lambda: webhooks(r, emulator))
                for name in ("workers", "growth", "latency"):
                    if name in wanted:
                        section(
                            r,
                            name,
                            lambda name=name: extra_sections.run(
                                name, r, emulator, webhook_targets(r)
                            ),
                        )
                if "api" in wanted:
                    section(r, "api", lambda: api(r, emulator))
        if "catalog" in wanted:
            section(r, "catalog", lambda: catalog(r))
        if "push" in wanted:
            section(r, "push", lambda: push_section.run_section(r))
        if "migrations" in wanted:
            section(r, "migrations", lambda: migrations(r))
    finally:
        pg.drop_all()
    r.results["total_seconds"] = time.perf_counter() - started
    default_out = args.out == (REPO / "benchmarks" / "results").resolve()
    docs_chart = REPO / "docs" / "img" / "benchmarks_headline_ratios.png" if default_out else None
    paths = report.write(r.results, args.out, docs_chart)
    # --out may lie outside the repository: name the files as given then.
    log(f"report: {', '.join(os.path.relpath(p, REPO) for p in paths)}")
    log(f"done in {r.results['total_seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
