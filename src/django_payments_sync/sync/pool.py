"""A push's rows on a bounded pool of threads, each thread on its own database connection."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.db import connections

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def concurrency_possible(using: str = "default") -> bool:
    """Whether other connections may do this push's writes: not inside a transaction (the rows
    it holds are not committed, other connections cannot see them), and not on SQLite (one
    writer at a time: threads would only fail on its lock)."""
    connection = connections[using]
    return not connection.in_atomic_block and connection.vendor != "sqlite"


def run_in_threads(tasks: Iterable[T], work: Callable[[T], R], concurrency: int) -> Iterator[R]:
    """``work(task)`` for every task on at most ``concurrency`` threads, results as they finish.

    Each thread opens its own database connection on first use and closes it when it ends
    (Django's connections are per thread). ``concurrency`` 1, or a caller inside a transaction
    (see :func:`concurrency_possible`), runs everything here, in order. An exception in a task
    stops the others from starting new tasks and is raised here once the threads have ended;
    closing the iterator early (an interrupted command) does the same.
    """
    if concurrency <= 1 or not concurrency_possible():
        for task in tasks:
            yield work(task)
        return
    todo: queue.SimpleQueue[object] = queue.SimpleQueue()
    count = 0
    for task in tasks:
        todo.put(task)
        count += 1
    done: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        try:
            while not stop.is_set():
                task = todo.get()
                if task is _DONE:
                    break
                try:
                    done.put((True, work(task)))  # type: ignore[arg-type]
                except BaseException as exc:
                    stop.set()
                    done.put((False, exc))
        finally:
            connections.close_all()  # this thread's connections only
            done.put((True, _DONE))

    threads = [
        threading.Thread(target=worker, name=f"payments-sync-push-{n}", daemon=True)
        for n in range(min(concurrency, count))
    ]
    for _ in threads:
        todo.put(_DONE)
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    running = len(threads)
    try:
        while running:
            try:
                ok, value = done.get(timeout=0.5)
            except queue.Empty:
                continue
            if value is _DONE:
                running -= 1
            elif not ok:
                failure = failure or value  # type: ignore[assignment]
            elif failure is None:
                yield value  # type: ignore[misc]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if failure is not None:
        raise failure
