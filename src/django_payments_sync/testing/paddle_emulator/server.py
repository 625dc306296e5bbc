"""The HTTP front: Paddle's API (JSON, Bearer key), its hosted checkout and portal pages."""

from __future__ import annotations

import copy
import json
import traceback
import uuid
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from ..emulator_kit.server import EmulatorHandler, dump
from . import pages
from .errors import PaddleError
from .resources import Call, Listed, match, path_exists

if TYPE_CHECKING:
    from ..emulator_kit.faults import Fault
    from .emulator import PaddleEmulator


class PaddleHandler(EmulatorHandler):
    """Paddle's API at the root (`/customers`, `/transactions`...) and the hosted pages."""

    @property
    def _emulator(self) -> PaddleEmulator:
        return cast("PaddleEmulator", self.server.emulator)

    def route(self, method: str, path: str, query: str, body: str) -> None:
        if pages.is_page(path):
            store = self._emulator.store
            with store.lock:
                form = dict(parse_qsl(body, keep_blank_values=True))
                args = dict(parse_qsl(query, keep_blank_values=True))
                status, headers, content = pages.handle(store, method, path, args, form)
            self._send(status, headers, content)
            return
        self._api(method, path, query, body)

    def fault_answer(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        request_id = str(uuid.uuid4())
        if fault.kind == "429":
            error = PaddleError(
                429,
                "too_many_requests",
                "IP address exceeded the allowed rate limit. Retry after the number of seconds "
                "in the Retry-After header.",
            )
            return 429, error.body(request_id), {"Retry-After": str(fault.retry_after)}
        error = PaddleError(
            500, "internal_error", "An internal error has occurred.", type="api_error"
        )
        return 500, error.body(request_id), {}

    def crash_answer(self, exc: Exception) -> tuple[int, Any, dict[str, str]]:
        error = PaddleError(
            500, "internal_error", f"Paddle emulator error: {exc!r}", type="api_error"
        )
        return 500, error.body(str(uuid.uuid4())), {}

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        emulator = self._emulator
        generation = emulator.store.generation
        request_id = str(uuid.uuid4())
        headers = {"Request-Id": request_id}
        if self.apply_fault(method, path, headers):
            return
        status, payload = self._run(method, path, query, body, request_id, generation)
        self._send_raw_json(status, payload, headers)

    def _authenticate(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth:
            raise PaddleError(
                403,
                "authentication_missing",
                "You must provide an API key in the Authorization header (Bearer <key>).",
            )
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise PaddleError(
                403,
                "authentication_malformed",
                "Authentication header included, but incorrectly formatted.",
            )
        key = auth[7:].strip()
        expected = self._emulator.api_key
        if expected is not None and key != expected:
            raise PaddleError(403, "forbidden", "You aren't permitted to perform this request.")

    def _run(
        self, method: str, path: str, query: str, raw: str, request_id: str, generation: int
    ) -> tuple[int, bytes]:
        store = self._emulator.store
        try:
            self._authenticate()
            params = dict(parse_qsl(query, keep_blank_values=True))
            body = _json_body(raw) if method in ("POST", "PATCH", "PUT") else {}
        except PaddleError as exc:
            return exc.status, dump(exc.body(request_id))
        with store.lock:
            if store.generation != generation:
                error = PaddleError(
                    500,
                    "internal_error",
                    "The emulator was reset while this request waited.",
                    type="api_error",
                )
                return 500, dump(error.body(request_id))
            store.request_count += 1
            found = match(method, path)
            if found is None:
                if path_exists(path):
                    error = PaddleError(
                        405, "method_not_allowed", f"{method} is not allowed for {path}"
                    )
                else:
                    error = PaddleError(404, "not_found", f"Unrecognized path {path}")
                return error.status, dump(error.body(request_id))
            route, args = found
            call = Call(store, method, path, args, params, body, dict(self.headers))
            try:
                result = route.handler(call)
            except PaddleError as exc:
                return exc.status, dump(exc.body(request_id))
            except Exception as exc:
                # An emulator bug: answer Paddle's own 500, say so on stderr, keep serving.
                traceback.print_exc()
                error = PaddleError(
                    500, "internal_error", f"Paddle emulator error: {exc!r}", type="api_error"
                )
                return 500, dump(error.body(request_id))
            if result is None:
                return 204, b""
            if isinstance(result, Listed):
                return 200, dump(
                    {
                        "data": copy.deepcopy(result.data),
                        "meta": {"request_id": request_id, "pagination": result.pagination},
                    }
                )
            return 200, dump({"data": copy.deepcopy(result), "meta": {"request_id": request_id}})


def _json_body(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise PaddleError(400, "invalid_json", f"Invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise PaddleError(400, "invalid_json", "The request body must be a JSON object.")
    return body
