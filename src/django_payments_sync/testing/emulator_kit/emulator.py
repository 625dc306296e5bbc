"""`EmulatorBase`: what every emulator does the same way (lifecycle, faults, deliveries)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, ClassVar, Self

from .delivery import Dispatcher
from .faults import Faults
from .server import EmulatorHTTPServer


class EmulatorBase:
    """An in-process provider stand-in over real HTTP, served from a daemon thread.

    A subclass sets `handler_class` and `name`, builds `store` and `dispatcher` in `__init__`,
    and implements `now` and `advance_clock`; it may answer control requests of its own in
    `control`.
    """

    handler_class: ClassVar[type[BaseHTTPRequestHandler]]
    #: Shown in thread names and messages ("stripe", "paddle").
    name: ClassVar[str] = "emulator"
    dispatcher: Dispatcher
    #: The provider's state: `lock`, `reset()` and `snapshot()`.
    store: Any

    def __init__(
        self, host: str, port: int, *, public_url: str | None = None, verbose: bool = False
    ) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self._public_url = public_url
        self.faults = Faults()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Self:
        """Bind, serve in a daemon thread, and return self."""
        if self._server is not None:
            return self
        self._server = EmulatorHTTPServer((self.host, self.port), self, self.handler_class)
        self.port = self._server.server_address[1]
        self.started()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{self.name}-emulator-http",
            daemon=True,
        )
        self._thread.start()
        self.dispatcher.start()
        return self

    def started(self) -> None:
        """Called once the port is known, before the first request is served."""

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        self.dispatcher.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321`."""
        if self._public_url:
            return self._public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    # state and clock (per provider)

    def reset(self) -> None:
        """Forget every object, event, delivery, fault and clock offset."""
        with self.store.lock:
            self.store.reset()
            self.dispatcher.reset()
        self.faults.clear()

    def state(self) -> dict[str, Any]:
        """A JSON-able dump of every stored object, by kind, plus the clock."""
        return self.store.snapshot()

    def now(self) -> Any:
        """The emulator's time as the provider writes it (Stripe: Unix seconds; Paddle: RFC
        3339 with microseconds)."""
        return self.store.now()

    def advance_clock(self, seconds: int) -> Any:
        """Move time on, performing what falls due on the way; return the new time."""
        raise NotImplementedError

    def control(self, method: str, action: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        """Answer a provider-specific `/_emulator/<action>` request, or None if unknown."""
        return None

    # webhook delivery

    def set_delivery_mode(self, mode: str) -> None:
        """`"in-order"` (default), `"shuffled"` or `"duplicates"` (every delivery sent twice)."""
        self.dispatcher.set_mode(mode)

    def pause_deliveries(self) -> None:
        self.dispatcher.pause()

    def resume_deliveries(self) -> None:
        self.dispatcher.resume()

    def flush(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Resume and send everything queued now, retries included; wait; return the log."""
        return self.dispatcher.flush(timeout)

    def wait_for_deliveries(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until every delivery succeeded or gave up; raise TimeoutError otherwise."""
        return self.dispatcher.wait(timeout)

    def pending_deliveries(self) -> int:
        return self.dispatcher.pending()

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: event, type, endpoint, url, attempt, status, error."""
        return self.dispatcher.deliveries()

    # faults

    def inject_fault(
        self,
        route: str,
        kind: str,
        share: float = 1.0,
        *,
        count: int | None = None,
        delay: float = 2.0,
        seed: int | None = 0,
    ) -> dict[str, Any]:
        """Answer requests matching `route` (`"POST /v1/customers*"`) with a fault.

        `kind` is `"500"`, `"429"` (with Retry-After) or `"delay"` (sleep `delay` seconds, then
        answer normally). `count=N` hits exactly the next N matching requests; otherwise a
        seeded `share` of them.
        """
        return self.faults.add(route, kind, share, count=count, delay=delay, seed=seed).describe()

    def clear_faults(self) -> None:
        self.faults.clear()
