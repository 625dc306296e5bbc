"""The VIES stand-in's HTTP server: :class:`VIESResponder`, its request handler, its CLI."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import socket
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from django_payments_sync.testing.vies_responder.soap import (
    BEHAVIOURS,
    FAULT_CODES,
    KNOWN_NUMBERS,
    TEST_NUMBERS,
    TEST_TRADER,
    TYPES_NS,
    WSDL_ADDRESS,
    WSDL_PATH,
    Answer,
    ReceivedRequest,
    parse_request,
    request_date,
    soap_envelope,
    soap_fault,
    xml_text,
)


class VIESResponder:
    """A local VIES: ``start()``, point ``PAYMENTS_SYNC["VIES"]["ADDRESS"]`` at ``url``,
    ``stop()`` (or use it as a context manager)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, slow_delay: float = 2.0):
        self.host = host
        self.port = port
        #: How long a ``slow`` answer (number ``903``) waits before it is sent.
        self.slow_delay = slow_delay
        #: Seconds added before every answer.
        self.delay = 0.0
        self._lock = threading.Lock()
        self._requests: list[ReceivedRequest] = []
        self._registered: dict[str, Answer] = {}
        self._forced: str | None = None
        self._identifiers = itertools.count(1)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> VIESResponder:
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"responder": self})
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        # A test that stops the responder must not wait for a reply still sleeping.
        server.block_on_close = False
        self._server = server
        self.port = server.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"vies-responder:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        # Clients keep connections alive between requests, each served by its own thread:
        # close them, or a stopped responder would go on answering its old clients.
        with self._lock:
            connections, self._connections = set(self._connections), set()
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> VIESResponder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The service address, e.g. ``http://127.0.0.1:54321/``."""
        if self._server is None:
            raise RuntimeError("The VIES responder is not started.")
        return f"http://{self.host}:{self.port}/"

    # --- steering -------------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """The requests received since the last :meth:`reset`, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def register(
        self, number: str, behaviour: str = "valid", *, name: str = "", address: str = ""
    ) -> None:
        """Answer for ``number`` (with its VIES prefix, e.g. ``DE812345673``) with
        ``behaviour``: ``valid``, ``invalid``, a fault code, or one of :data:`MISBEHAVIOURS`."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"Unknown behaviour {behaviour!r}; known: {sorted(BEHAVIOURS)}")
        with self._lock:
            self._registered[number.upper()] = Answer(behaviour, name, address)

    def force(self, behaviour: str | None) -> None:
        """Answer every request with ``behaviour`` (e.g. ``SERVICE_UNAVAILABLE`` for an
        outage) until ``force(None)`` or :meth:`reset`."""
        if behaviour is not None and behaviour not in BEHAVIOURS:
            raise ValueError(f"Unknown behaviour {behaviour!r}; known: {sorted(BEHAVIOURS)}")
        with self._lock:
            self._forced = behaviour

    @contextmanager
    def forced(self, behaviour: str) -> Iterator[None]:
        """:meth:`force` for the duration of a ``with`` block."""
        self.force(behaviour)
        try:
            yield
        finally:
            self.force(None)

    def reset(self) -> None:
        """Forget the requests received, registrations, forced behaviour and delay."""
        with self._lock:
            self._requests.clear()
            self._registered.clear()
            self._forced = None
            self.delay = 0.0

    # --- answering ------------------------------------------------------------------------

    def answer_for(self, country_code: str, vat_number: str) -> Answer:
        """What the responder answers for this number now."""
        full = f"{country_code}{vat_number}".upper()
        with self._lock:
            forced = self._forced
            registered = self._registered.get(full)
        if forced is not None:
            return Answer(forced, TEST_TRADER.name, TEST_TRADER.address)
        if registered is not None:
            return registered
        if full in KNOWN_NUMBERS:
            return KNOWN_NUMBERS[full]
        behaviour = TEST_NUMBERS.get(vat_number)
        if behaviour is not None:
            return dataclasses.replace(TEST_TRADER, behaviour=behaviour)
        return Answer("invalid")

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_identifier(self) -> str:
        # Unique per answer like VIES's, and recognisably not one of VIES's.
        return f"LOCAL{next(self._identifiers):04d}{uuid.uuid4().hex[:7].upper()}"

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def wsdl(self) -> bytes:
        """The shipped WSDL, naming this responder as the service address."""
        text = WSDL_PATH.read_text(encoding="utf-8")
        return text.replace(WSDL_ADDRESS, self.url).encode()

    def respond(self, body: bytes) -> tuple[int, str, bytes]:
        """The (status, content type, body) answering a SOAP request body."""
        try:
            request = parse_request(body)
        except (ET.ParseError, ValueError):
            self._record(ReceivedRequest(operation=""))
            return 500, "text/xml; charset=utf-8", soap_fault("INVALID_INPUT")
        self._record(request)
        self._wait(self.delay)
        if request.operation not in ("checkVat", "checkVatApprox"):
            return 500, "text/xml; charset=utf-8", soap_fault("INVALID_INPUT")
        answer = self.answer_for(request.country_code, request.vat_number)
        behaviour = answer.behaviour
        if behaviour == "slow":
            self._wait(self.slow_delay)
            behaviour = "valid"
        if behaviour == "extra_element":
            payload = self._check_answer(request, answer, valid=True)
            closing = f"</{request.operation}Response>".encode()
            extra = b"<vatGroupMember>false</vatGroupMember>" + closing
            return 200, "text/xml; charset=utf-8", payload.replace(closing, extra, 1)
        if behaviour in FAULT_CODES:
            return 500, "text/xml; charset=utf-8", soap_fault(behaviour)
        if behaviour == "html_503":
            page = (
                "<html><head><title>503 Service Unavailable</title></head><body>"
                "<h1>Service Unavailable</h1><p>The server is temporarily unable to service "
                "your request. Please try again later.</p></body></html>"
            )
            return 503, "text/html; charset=utf-8", page.encode()
        if behaviour == "not_xml":
            return 200, "text/plain; charset=utf-8", b"Service temporarily unavailable\n"
        if behaviour == "garbage":
            return (
                200,
                "text/xml; charset=utf-8",
                b'<?xml version="1.0"?><status>maintenance</status>',
            )
        valid = behaviour == "valid"
        return 200, "text/xml; charset=utf-8", self._check_answer(request, answer, valid)

    def _check_answer(self, request: ReceivedRequest, answer: Answer, valid: bool) -> bytes:
        name = answer.name if valid else ""
        address = answer.address if valid else ""
        core = (
            xml_text("countryCode", request.country_code)
            + xml_text("vatNumber", request.vat_number)
            + xml_text("requestDate", request_date())
            + xml_text("valid", "true" if valid else "false")
        )
        if request.operation == "checkVat":
            inner = core + xml_text("name", name) + xml_text("address", address)
            return soap_envelope(f'<checkVatResponse xmlns="{TYPES_NS}">{inner}</checkVatResponse>')
        inner = core + xml_text("traderName", name) + xml_text("traderAddress", address)
        if request.requester_country_code and request.requester_vat_number:
            inner += xml_text("requestIdentifier", self._next_identifier())
        else:
            inner += "<requestIdentifier></requestIdentifier>"
        return soap_envelope(
            f'<checkVatApproxResponse xmlns="{TYPES_NS}">{inner}</checkVatApproxResponse>'
        )


class _Handler(BaseHTTPRequestHandler):
    responder: VIESResponder
    protocol_version = "HTTP/1.1"
    server_version = "VIESResponder/1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK add about 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.responder._lock:
            self.responder._connections.add(self.connection)

    def finish(self) -> None:
        with self.responder._lock:
            self.responder._connections.discard(self.connection)
        super().finish()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, content_type, payload = self.responder.respond(body)
        self._send(status, content_type, payload)

    def do_GET(self) -> None:
        # The WSDL, so that a check from a shell (or a wait-until-up loop) gets an answer.
        self.responder._record(ReceivedRequest(operation="GET"))
        self._send(200, "text/xml; charset=utf-8", self.responder.wsdl())

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (a timeout test); nothing to answer to.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: ``python -m django_payments_sync.testing.vies_responder``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args(argv)
    responder = VIESResponder(args.host, args.port)
    responder.delay = args.delay
    responder.start()
    print(f"VIES responder listening on {responder.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        responder.stop()


if __name__ == "__main__":
    main()
