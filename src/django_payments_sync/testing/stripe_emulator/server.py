"""The HTTP front: Stripe's wire protocol on `/v1/`, hosted pages, and `/_emulator/` controls."""

from __future__ import annotations

import base64
import json
import socket
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import pages
from .errors import StripeError
from .events import api_version, set_request
from .params import decode_form, resolve_params_class, validate
from .resources import Call, match

if TYPE_CHECKING:
    from .emulator import StripeEmulator

_MISSING_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One daemon thread per connection, so stopping never waits for idle keep-alive clients."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: StripeEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
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
            elif path.startswith("/v1/"):
                self._api(method, path, parts.query, body)
            elif pages.is_page(path):
                store = self.server.emulator.store
                with store.lock:
                    set_request(None, None)
                    form = dict(parse_qsl(body, keep_blank_values=True))
                    status, headers, content = pages.handle(store, method, path, form)
                self._send(status, headers, content)
            else:
                self._send_json(
                    404, {"error": {"message": "Not found", "type": "invalid_request_error"}}, {}
                )
        except ConnectionError:
            # The client gave up (e.g. its timeout fired during an injected delay).
            self.close_connection = True
        except Exception as exc:
            traceback.print_exc()
            error = StripeError(500, f"Stripe emulator error: {exc!r}", type="api_error")
            self._send_json(500, error.body(), {"Stripe-Should-Retry": "false"})

    # the API

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        emulator = self.server.emulator
        generation = emulator.store.generation
        request_id = "req_" + uuid.uuid4().hex[:14]
        version = self.headers.get("Stripe-Version") or api_version()
        headers = {"Request-Id": request_id, "Stripe-Version": version}
        fault = emulator.faults.pick(method, path)
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.delay)
            elif fault.kind == "429":
                error = StripeError(
                    429,
                    "Too many requests hit the API too quickly. We recommend an exponential "
                    "backoff of your requests.",
                    code="rate_limit",
                    headers={
                        "Retry-After": str(fault.retry_after),
                        "Stripe-Should-Retry": "true",
                    },
                )
                self._send_json(429, error.body(), {**headers, **error.headers})
                return
            else:
                error = StripeError(500, "An unknown error occurred", type="api_error")
                self._send_json(500, error.body(), headers)
                return
        try:
            api_key = self._api_key()
        except StripeError as exc:
            self._send_json(exc.status, exc.body(), headers)
            return
        idempotency_key = self.headers.get("Idempotency-Key")
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        raw = body if method == "POST" else query
        status, payload, replayed = self._run(
            method,
            path,
            raw,
            api_key,
            idempotency_key if method == "POST" else None,
            request_id,
            generation,
        )
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if status == 500:
            headers["Stripe-Should-Retry"] = "false"
        self._send_raw_json(status, payload, headers)

    def _api_key(self) -> str:
        auth = self.headers.get("Authorization", "")
        key = ""
        if auth.startswith("Bearer "):
            key = auth[7:].strip()
        elif auth.startswith("Basic "):
            try:
                key = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                key = ""
        if not key:
            raise StripeError(401, _MISSING_KEY)
        if not key.startswith(("sk_test_", "rk_test_")):
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            raise StripeError(401, f"Invalid API Key provided: {shown}")
        return key

    def _run(
        self,
        method: str,
        path: str,
        raw: str,
        api_key: str,
        idempotency_key: str | None,
        request_id: str,
        generation: int,
    ) -> tuple[int, bytes, bool]:
        store = self.server.emulator.store
        fingerprint = f"{method} {path} " + "&".join(sorted(raw.split("&")))
        with store.lock:
            if store.generation != generation:
                error = StripeError(
                    500, "The emulator was reset while this request waited.", type="api_error"
                )
                return 500, _dump(error.body()), False
            store.request_count += 1
            if idempotency_key:
                cached = store.idempotency.get((api_key, idempotency_key))
                if cached is not None:
                    if cached[0] != fingerprint:
                        error = StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{idempotency_key}' if you meant to execute a different request.",
                            type="idempotency_error",
                        )
                        return 400, _dump(error.body()), False
                    return cached[1], cached[2], True
            found = match(method, path)
            if found is None:
                error = StripeError(
                    404,
                    f"Unrecognized request URL ({method}: {path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                )
                return 404, _dump(error.body()), False
            route, args = found
            try:
                params = decode_form(raw)
                if route.params_class:
                    params = validate(params, resolve_params_class(route.params_class))
            except StripeError as exc:
                # Stripe saves no idempotent result when validation fails.
                return exc.status, _dump(exc.body()), False
            set_request(request_id, idempotency_key)
            call = Call(store, method, path, args, params, api_key, dict(self.headers))
            try:
                status, payload = 200, _dump(route.handler(call))
            except StripeError as exc:
                status, payload = exc.status, _dump(exc.body())
            except Exception as exc:
                # A bug in the emulator: answer as Stripe answers its own failures, say so on
                # stderr, and remember nothing, rather than dropping the connection (which the
                # SDK would retry as a network error).
                traceback.print_exc()
                error = StripeError(500, f"Stripe emulator error: {exc!r}", type="api_error")
                return 500, _dump(error.body()), False
            finally:
                set_request(None, None)
            if idempotency_key:
                store.idempotency[(api_key, idempotency_key)] = (fingerprint, status, payload)
            return status, payload, False

    # responses

    def _send_json(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        self._send_raw_json(status, _dump(payload), headers)

    def _send_raw_json(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self._send(status, {"Content-Type": "application/json", **headers}, payload)

    def _send(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def _dump(payload: Any) -> bytes:
    return json.dumps(payload, indent=2).encode()
