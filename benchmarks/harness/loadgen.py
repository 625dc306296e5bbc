"""A bounded load generator: N threads with keep-alive ``http.client`` connections over loopback."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .stats import percentile

#: Header the query-counting WSGI wrapper adds to each response.
QUERIES_HEADER = "X-Bench-Queries"
DATA_QUERIES_HEADER = "X-Bench-Queries-Data"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Request:
    """One request to send; ``sign`` (if set) makes headers from the body just before sending."""

    method: str
    path: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    sign: Callable[[bytes], Mapping[str, str]] | None = None
    #: A label to break latencies down by (the event type, for webhooks).
    tag: str = ""


@dataclass
class LoadResult:
    """What a run measured: counts, wall time, latencies in seconds, statuses and query counts."""

    sent: int
    wall: float
    latencies: list[float]
    statuses: Counter[int]
    queries: list[int]
    data_queries: list[int]
    errors: list[str]
    timed_out: bool
    by_tag: dict[str, list[float]] = field(default_factory=dict)
    #: Data queries (savepoints excluded) of each request, by tag.
    queries_by_tag: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def throughput(self) -> float:
        return self.sent / self.wall if self.wall else float("nan")

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000.0

    @property
    def queries_per_request(self) -> float:
        return sum(self.queries) / len(self.queries) if self.queries else float("nan")

    @property
    def data_queries_per_request(self) -> float:
        """Queries per request without transaction control (savepoints)."""
        if not self.data_queries:
            return float("nan")
        return sum(self.data_queries) / len(self.data_queries)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "ok": self.ok,
            "wall_s": self.wall,
            "per_s": self.throughput,
            "p50_ms": self.latency_ms(50),
            "p99_ms": self.latency_ms(99),
            "queries_per_request": self.queries_per_request,
            "data_queries_per_request": self.data_queries_per_request,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors[:5],
            "timed_out": self.timed_out,
            "p50_ms_by_tag": {
                tag: percentile(values, 50) * 1000.0 for tag, values in sorted(self.by_tag.items())
            },
            "data_queries_by_tag": {
                tag: sorted(values)[len(values) // 2]
                for tag, values in sorted(self.queries_by_tag.items())
                if values
            },
        }


def run_load(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    concurrency: int = 8,
    time_limit: float = 300.0,
    timeout: float = 60.0,
) -> LoadResult:
    """Send ``requests`` in order from ``concurrency`` connections; stop at the end or the limit.

    Bounded twice: each request is sent at most once, and no new request starts after
    ``time_limit`` seconds. Only loopback addresses are accepted.
    """
    if host not in LOOPBACK:
        raise ValueError(f"the load generator only targets loopback, not {host!r}")
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    queries: list[int] = []
    data_queries: list[int] = []
    errors: list[str] = []
    by_tag: dict[str, list[float]] = {}
    queries_by_tag: dict[str, list[int]] = {}
    start = time.perf_counter()
    deadline = start + time_limit
    timed_out = threading.Event()

    def next_index() -> int | None:
        with lock:
            if time.perf_counter() > deadline:
                timed_out.set()
                return None
            return next(cursor, None)

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            while (index := next_index()) is not None:
                item = requests[index]
                headers = dict(item.headers)
                if item.sign is not None:
                    headers.update(item.sign(item.body))
                began = time.perf_counter()
                try:
                    conn.request(item.method, item.path, body=item.body or None, headers=headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        statuses[0] += 1
                        errors.append(f"{item.method} {item.path}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - began
                count = response.getheader(QUERIES_HEADER)
                data_count = response.getheader(DATA_QUERIES_HEADER)
                with lock:
                    latencies.append(elapsed)
                    if item.tag:
                        by_tag.setdefault(item.tag, []).append(elapsed)
                    statuses[response.status] += 1
                    if count is not None:
                        queries.append(int(count))
                    if data_count is not None:
                        data_queries.append(int(data_count))
                        if item.tag:
                            queries_by_tag.setdefault(item.tag, []).append(int(data_count))
                    if response.status >= 500 and len(errors) < 50:
                        errors.append(f"{item.method} {item.path}: HTTP {response.status}")
                if response.will_close:
                    conn.close()
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + timeout + 5)
    wall = time.perf_counter() - start
    return LoadResult(
        sent=sum(statuses.values()),
        wall=wall,
        latencies=latencies,
        statuses=statuses,
        queries=queries,
        data_queries=data_queries,
        errors=errors,
        timed_out=timed_out.is_set(),
        by_tag=by_tag,
        queries_by_tag=queries_by_tag,
    )
