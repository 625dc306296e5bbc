"""The HTTP front: Stripe's wire protocol on `/v1/` and its hosted pages (controls: the kit)."""

from __future__ import annotations

import base64
import traceback
import uuid
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from ..emulator_kit.server import EmulatorHandler, EmulatorHTTPServer
from ..emulator_kit.server import dump as _dump
from . import pages
from .errors import StripeError
from .events import api_version, set_request
from .params import decode_form, resolve_params_class, validate
from .resources import Call, match

if TYPE_CHECKING:
    from ..emulator_kit.faults import Fault
    from .emulator import StripeEmulator

_MISSING_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


class StripeHandler(EmulatorHandler):
    """Stripe's API under `/v1/` and its hosted pages."""

    server: EmulatorHTTPServer

    def route(self, method: str, path: str, query: str, body: str) -> None:
        if path.startswith("/v1/"):
            self._api(method, path, query, body)
        elif pages.is_page(path):
            store = self._emulator.store
            with store.lock:
                set_request(None, None)
                form = dict(parse_qsl(body, keep_blank_values=True))
                status, headers, content = pages.handle(store, method, path, form)
            self._send(status, headers, content)
        else:
            self._send_json(
                404, {"error": {"message": "Not found", "type": "invalid_request_error"}}, {}
            )

    @property
    def _emulator(self) -> StripeEmulator:
        return cast("StripeEmulator", self.server.emulator)

    def fault_answer(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        if fault.kind == "429":
            error = StripeError(
                429,
                "Too many requests hit the API too quickly. We recommend an exponential "
                "backoff of your requests.",
                code="rate_limit",
                headers={"Retry-After": str(fault.retry_after), "Stripe-Should-Retry": "true"},
            )
            return 429, error.body(), error.headers
        error = StripeError(500, "An unknown error occurred", type="api_error")
        return 500, error.body(), {}

    def crash_answer(self, exc: Exception) -> tuple[int, Any, dict[str, str]]:
        error = StripeError(500, f"Stripe emulator error: {exc!r}", type="api_error")
        return 500, error.body(), {"Stripe-Should-Retry": "false"}

    # the API

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        emulator = self._emulator
        generation = emulator.store.generation
        request_id = "req_" + uuid.uuid4().hex[:14]
        version = self.headers.get("Stripe-Version") or api_version()
        headers = {"Request-Id": request_id, "Stripe-Version": version}
        if self.apply_fault(method, path, headers):
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
        store = self._emulator.store
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


# Kept for tests that patch the handler by its old name.
_Handler = StripeHandler
