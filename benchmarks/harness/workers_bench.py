"""Background workers, a growing log and provider latency: the webhook figures beyond ingest.

- ``drain``: the stream is stored and enqueued by gunicorn in task mode (a backlog), then
  applied by 1, 2 and 4 ``manage.py db_worker`` processes (Django's tasks framework, the
  ``django-tasks-db`` backend), each on a fresh copy of the backlog: events/s until every event
  is settled, and each worker's peak RSS.
- ``backlog_rss``: one ``payments_sync events process`` (the cron drain) applying a backlog of
  ``rss_events`` received events (the stream's and copies under new ids): its peak RSS.
- ``growth``: the stream through the sync endpoint on a log that already holds ``big`` settled
  events (bulk-loaded by SQL), against one holding ``small``: latency and queries per event.
- ``latency``: a fixed delay on every provider call (the emulator's ``delay`` fault).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

from . import pg
from .loadgen import run_load
from .procs import WORK, Emulator, Gunicorn, Managed, bench_env, last_json, run
from .webhook_bench import Target, requests_for, run_target, warm_up

EVENTS = "django_payments_sync_webhookevent"
TASK_RESULTS = "django_tasks_database_dbtaskresult"  # django-tasks-db's app label
OURS = "benchmarks.harness.ours.settings"
OURS_WSGI = "benchmarks.harness.ours.wsgi:application"
WEBHOOK_PATH = "/api/payment/stripe/webhook/"
SECRET = "whsec_bench_ours"


def _scalar(url: str, sql: str) -> Any:
    import psycopg

    with closing(psycopg.connect(url, autocommit=True)) as conn:
        cursor = conn.execute(sql)
        row = cursor.fetchone() if cursor.description else None
    return row[0] if row else None


class Poller:
    """One open connection for the counts a drain polls (a new connection per poll would fork a
    PostgreSQL backend 40 times a second, on the cores the workers need)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._conn = psycopg.connect(url, autocommit=True)

    def scalar(self, sql: str) -> Any:
        row = self._conn.execute(sql).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._conn.close()


#: The local state a stream leaves, in one comparable digest (what the storm tests compare,
#: ``tests/webhooks/streams.read_state``): users, customers with their provider ids,
#: subscriptions with status, quantity and end, and every event's status.
STATE_SQL = f"""
SELECT count(*), md5(coalesce(string_agg(line, '|' ORDER BY line), '')) FROM (
  SELECT concat_ws(' ', 'user', email) AS line FROM auth_user
  UNION ALL
  SELECT concat_ws(' ', 'customer', c.email, c.name, string_agg(x.external_id, ','
    ORDER BY x.external_id))
  FROM django_payments_sync_customer c
  LEFT JOIN django_payments_sync_externalcustomer x ON x.customer_id = c.id GROUP BY c.id
  UNION ALL
  SELECT concat_ws(' ', 'subscription', x.external_id, c.email, s.status, s.quantity,
    s.cancel_at_period_end, s.ended_at)
  FROM django_payments_sync_subscription s
  JOIN django_payments_sync_customer c ON c.id = s.customer_id
  LEFT JOIN django_payments_sync_externalsubscription x ON x.subscription_id = s.id
  UNION ALL
  SELECT concat_ws(' ', 'event', provider, event_id, status) FROM {EVENTS}
) AS state
"""


def state_digest(url: str) -> str:
    """``<rows>:<md5>`` of the local state (equal digests: equal state)."""
    rows = _rows(url, STATE_SQL)
    count, digest = rows[0]
    return f"{count}:{digest[:12]}"


def in_order_state(python: Path, emulator: Emulator, backlog: str, database: str) -> dict:
    """The reference: one ``payments_sync events process`` (in order, key by key, one process)
    applying a copy of the backlog; its state digest and time."""
    url = pg.create_database(database, template=backlog)
    try:
        started = time.perf_counter()
        subprocess.run(
            [str(python), "-m", "django", "payments_sync", "events", "process"],
            env=_env(url, emulator),
            capture_output=True,
            check=True,
            timeout=900,
        )
        seconds = time.perf_counter() - started
        left = _scalar(url, f"SELECT count(*) FROM {EVENTS} WHERE status = 'received'")
        return {"state": state_digest(url), "seconds": seconds, "left_received": left}
    finally:
        pg.drop_database(database)


def exactly_once(result: dict[str, Any], reference: dict[str, Any] | None) -> bool | None:
    """Every event settled once: none left received or failed, no task failed or left queued,
    and the local state equal to the in-order drain's (None: no reference to compare)."""
    if reference is None or not reference.get("state"):
        return None
    statuses = result.get("statuses", {})
    return (
        not result.get("timed_out")
        and not statuses.get("received")
        and not statuses.get("failed")
        and not result.get("failed_tasks")
        and not result.get("left_in_queue")
        and result.get("state") == reference["state"]
    )


def _env(url: str, emulator: Emulator, **extra: str) -> dict[str, str]:
    return bench_env(
        DJANGO_SETTINGS_MODULE=OURS,
        BENCH_DATABASE_URL=url,
        BENCH_STRIPE_API_BASE=emulator.url,
        BENCH_WEBHOOK_SECRET=SECRET,
        **extra,
    )


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident set size of a running process (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def build_backlog(
    python: Path, events: list[dict[str, Any]], emulator: Emulator, name: str, template: str
) -> dict[str, Any]:
    """Database ``name``: the stream stored and enqueued by the endpoint in task mode."""
    url = pg.create_database(name, template=template)
    env = _env(url, emulator, BENCH_PROCESSING="task")
    app = Gunicorn(python, OURS_WSGI, env, name="ours-task-backlog", workers=2)
    with app:
        warm_up(app.port, WEBHOOK_PATH, 2)
        result = run_load(
            "127.0.0.1",
            app.port,
            requests_for(events, WEBHOOK_PATH, SECRET),
            concurrency=8,
            time_limit=300,
        )
    received = _scalar(url, f"SELECT count(*) FROM {EVENTS} WHERE status = 'received'")
    return {"ok": result.as_dict()["ok"], "received": received}


def drain(
    python: Path,
    emulator: Emulator,
    backlog: str,
    database: str,
    workers: int,
    *,
    time_limit: float,
) -> dict[str, Any]:
    """Apply the backlog with ``workers`` db_worker processes; events/s and peak RSS."""
    url = pg.create_database(database, template=backlog)
    pending = f"SELECT count(*) FROM {EVENTS} WHERE status = 'received'"
    queued = f"SELECT count(*) FROM {TASK_RESULTS} WHERE status IN ('READY', 'RUNNING')"
    total = _scalar(url, pending)
    env = _env(url, emulator, BENCH_PROCESSING="task")
    command = [str(python), "-m", "django", "db_worker", "--no-reload", "--interval", "0.05"]
    command.append("--no-startup-delay")
    procs = [
        Managed(command, env, WORK / "logs" / f"db_worker-{workers}-{i}.log")
        for i in range(workers)
    ]
    started = time.perf_counter()
    timed_out = False
    rss: list[float | None] = []
    poll = Poller(url)
    try:
        while poll.scalar(pending) or poll.scalar(queued):
            if time.perf_counter() - started > time_limit:
                timed_out = True
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        rss = [peak_rss_mb(p.process.pid) for p in procs]
    finally:
        poll.close()
        for proc in procs:
            proc.terminate()  # all at once: each finishes its task, then exits
        for proc in procs:
            proc.stop()
    statuses = dict(_rows(url, f"SELECT status, count(*) FROM {EVENTS} GROUP BY 1 ORDER BY 2 DESC"))
    failed_tasks = _scalar(url, f"SELECT count(*) FROM {TASK_RESULTS} WHERE status = 'FAILED'")
    left_queued = _scalar(url, queued)
    digest = state_digest(url)
    pg.drop_database(database)
    return {
        "runner": "db_worker",
        "left_in_queue": left_queued,
        "state": digest,
        "workers": workers,
        "events": total,
        "seconds": seconds,
        "per_s": total / seconds if seconds else float("nan"),
        "timed_out": timed_out,
        "statuses": statuses,
        "failed_tasks": failed_tasks,
        "peak_rss_mb": [round(x, 1) for x in rss if x is not None],
    }


def backlog_rss(
    python: Path,
    emulator: Emulator,
    backlog: str,
    database: str,
    events: int,
    *,
    time_limit: float,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """``events process`` on ``events`` received events (the stream's, plus copies under new
    ids); its peak RSS (VmHWM, the process's own high-water mark), sampled as it streams.

    ``stop_after``: stopped once that many are applied (the backlog is still ``events`` rows:
    a drain that loaded them at once would peak at the start); the peak is also noted at each
    quarter of the way, so a growth over the drain shows."""
    url = pg.create_database(database, template=backlog)
    stored = _scalar(url, f"SELECT count(*) FROM {EVENTS}")
    copies = max(0, -(-events // max(stored, 1)) - 1)
    columns = (
        "provider, type, livemode, provider_created_at, ordering_key, payload, status, "
        "waiting_for, attempts, last_error, received_at, processed_at, updated_at"
    )
    for n in range(1, copies + 1):
        _scalar(
            url,
            f"INSERT INTO {EVENTS} (event_id, {columns}) SELECT event_id || '_copy{n}', "
            f"{columns} FROM {EVENTS} WHERE event_id NOT LIKE '%%\\_copy%%'",
        )
    _scalar(url, f"UPDATE {EVENTS} SET status = 'received', attempts = 0, processed_at = NULL")
    backlog_size = _scalar(url, f"SELECT count(*) FROM {EVENTS}")
    env = _env(url, emulator)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), "-m", "django", "payments_sync", "events", "process"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak: float | None = None
    timed_out = stopped = False
    goal = min(stop_after or backlog_size, backlog_size)
    marks: dict[str, float] = {}
    pending = f"SELECT count(*) FROM {EVENTS} WHERE status = 'received'"
    poll = Poller(url)
    try:
        while proc.poll() is None:
            peak = max(peak or 0.0, peak_rss_mb(proc.pid) or 0.0)
            done = backlog_size - (poll.scalar(pending) or 0)
            for quarter in (1, 2, 3):
                if done >= goal * quarter / 4:
                    marks.setdefault(f"{quarter}/4", round(peak, 1))
            if done >= goal and goal < backlog_size:
                stopped = True
                proc.kill()
                break
            if time.perf_counter() - started > time_limit:
                timed_out = True
                proc.kill()
                break
            time.sleep(0.2)
    finally:
        poll.close()
    output = proc.communicate(timeout=30)[0] or ""
    seconds = time.perf_counter() - started
    left = _scalar(url, pending)
    pg.drop_database(database)
    applied = backlog_size - (left or 0)
    if peak:
        marks["end"] = round(peak, 1)
    return {
        "stop_after": goal if goal < backlog_size else None,
        "stopped_at_count": stopped,
        "peak_rss_by_quarter": marks,
        "events": backlog_size,
        "applied": applied,
        "seconds": seconds,
        "per_s": applied / seconds if seconds else float("nan"),
        "left_received": left,
        "timed_out": timed_out,
        "exit_code": proc.returncode,
        "output": output.strip()[-300:],
        # Sampled every 0.2 s from /proc (VmHWM is the process's own high-water mark).
        "peak_rss_mb": round(peak, 1) if peak else None,
    }


def bulk_log(template: str, name: str, settled: int) -> str:
    """Database ``name``: ``template`` plus ``settled`` processed events, bulk-loaded by SQL."""
    url = pg.create_database(name, template=template)
    _scalar(
        url,
        f"INSERT INTO {EVENTS} (provider, event_id, type, livemode, provider_created_at, "
        "ordering_key, payload, status, waiting_for, attempts, last_error, received_at, "
        "processed_at, updated_at) SELECT 'stripe', 'evt_bulk_' || i, "
        "'customer.subscription.updated', false, now() - interval '30 days', "
        "'customer:cus_bulk' || (i % 5000), '{\"id\": \"bulk\"}'::jsonb, 'processed', '', 1, '', "
        "now() - interval '30 days', now() - interval '30 days', now() - interval '30 days' "
        f"FROM generate_series(1, {settled}) AS i",
    )
    _scalar(url, f"ANALYZE {EVENTS}")
    return url


def growth(
    python: Path,
    events: list[dict[str, Any]],
    emulator: Emulator,
    template: str,
    sizes: tuple[int, int],
    *,
    time_limit: float,
    reps: int = 1,
) -> dict[str, Any]:
    """The sync endpoint's latency and queries per event on a small and on a big log.

    Both logs are loaded first; then each repetition runs the stream on a fresh copy of each,
    alternating which goes first, so the machine's drift between runs falls on both alike.
    Per size: the medians over the repetitions (and every run under ``runs``); ``p50_ratios``:
    the big log's p50 over the small one's, paired by repetition.
    """
    names = {size: f"{pg.PREFIX}log_{size}" for size in sizes}
    out: dict[str, Any] = {}
    try:
        for size in sizes:
            url = bulk_log(template, names[size], size)
            if size == max(sizes):
                # The hot lookups' plans on the big log (each should read an index).
                out["explain"] = last_json(
                    run([str(python), "-m", "benchmarks.harness.ours.explain"], _env(url, emulator))
                )
        runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        for rep in range(reps):
            for size in sizes if rep % 2 == 0 else tuple(reversed(sizes)):
                target = Target(
                    f"ours, log of {size:,}",
                    python,
                    OURS,
                    OURS_WSGI,
                    names[size],
                    WEBHOOK_PATH,
                    SECRET,
                )
                runs[size].append(
                    run_target(
                        target,
                        events,
                        emulator,
                        database=f"{pg.PREFIX}log_run",
                        concurrency=8,
                        workers=2,
                        time_limit=time_limit,
                    )
                )
    finally:
        for name in names.values():
            pg.drop_database(name)
    keys = ("per_s", "p50_ms", "p99_ms", "data_queries_per_request")
    for size, these in runs.items():
        out[str(size)] = {key: statistics.median(float(r[key]) for r in these) for key in keys}
        out[str(size)]["runs"] = these
    small, big = sizes
    pairs = zip(runs[small], runs[big], strict=True)
    out["p50_ratios"] = [b["p50_ms"] / s["p50_ms"] for s, b in pairs if s["p50_ms"]]
    return out


def set_delay(emulator: Emulator, seconds: float) -> None:
    """Every ``/v1/`` call answered after ``seconds`` (none: clear the faults)."""
    base = f"{emulator.url}/_emulator/faults"
    request = urllib.request.Request(base, method="DELETE")
    urllib.request.urlopen(request, timeout=10).close()
    if seconds:
        body = json.dumps({"route": "* /v1/*", "kind": "delay", "delay": seconds}).encode()
        request = urllib.request.Request(
            base, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=10).close()


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with closing(psycopg.connect(url)) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]
