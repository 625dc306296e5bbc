"""The emulators' HTTP front: a threaded server, `/_emulator/` controls, faults, JSON answers."""

from __future__ import annotations

import json
import socket
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .emulator import EmulatorBase
    from .faults import Fault


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One daemon thread per connection, so stopping never waits for idle keep-alive clients."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        emulator: EmulatorBase,
        handler: type[BaseHTTPRequestHandler],
    ) -> None:
        self.emulator = emulator
        super().__init__(address, handler)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Parses a request, answers `/_emulator/...` itself and hands the rest to `route`.

    Subclasses implement `route` (the provider's API and pages), `fault_answer` (how the
    provider words a 500 or a 429) and `crash_answer` (its own failure).
    """

    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer
    # An idle keep-alive connection is dropped after this, freeing its thread.
    timeout = 60

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        path = parts.path.rstrip("/") or "/"
        try:
            if path == "/_emulator" or path.startswith("/_emulator/"):
                from .control import handle_control

                status, payload = handle_control(self.server.emulator, method, path, body)
                self._send_json(status, payload, {})
            else:
                self.route(method, path, parts.query, body)
        except ConnectionError:
            # The client gave up (e.g. its timeout fired during an injected delay).
            self.close_connection = True
        except Exception as exc:
            traceback.print_exc()
            status, payload, headers = self.crash_answer(exc)
            self._send_json(status, payload, headers)

    # for subclasses

    def route(self, method: str, path: str, query: str, body: str) -> None:
        raise NotImplementedError

    def fault_answer(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        """The status, JSON body and headers of an injected 500 or 429."""
        raise NotImplementedError

    def crash_answer(self, exc: Exception) -> tuple[int, Any, dict[str, str]]:
        """The answer when the emulator itself fails (a bug): the provider's own 500."""
        raise NotImplementedError

    def apply_fault(self, method: str, path: str, headers: dict[str, str]) -> bool:
        """Play the fault injected for this request, if any; True when it answered already."""
        fault = self.server.emulator.faults.pick(method, path)
        if fault is None:
            return False
        if fault.kind == "delay":
            time.sleep(fault.delay)
            return False
        status, payload, extra = self.fault_answer(fault)
        self._send_json(status, payload, {**headers, **extra})
        return True

    # responses

    def _send_json(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        self._send_raw_json(status, dump(payload), headers)

    def _send_raw_json(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self._send(status, {"Content-Type": "application/json", **headers}, payload)

    def _send(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def dump(payload: Any) -> bytes:
    return json.dumps(payload, indent=2).encode()
