"""Paddle-shaped API errors: `{"error": {type, code, detail, documentation_url, errors}}`."""

from __future__ import annotations

from typing import Any

# Codes documented under "shared" in Paddle's error reference; others live under their entity.
_SHARED = {
    "bad_request",
    "not_found",
    "forbidden",
    "authentication_missing",
    "authentication_malformed",
    "invalid_field",
    "invalid_json",
    "too_many_requests",
    "internal_error",
    "method_not_allowed",
    "entity_archived",
    "conflict",
}


class PaddleError(Exception):
    """An error answered as Paddle answers it: an HTTP status and an `error` object."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        type: str = "request_error",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.type = type
        self.errors = errors or []
        self.headers = headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        area = "shared" if self.code in _SHARED else self.code.split("_", 1)[0] + "s"
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "detail": self.detail,
            "documentation_url": f"https://developer.paddle.com/v1/errors/{area}/{self.code}",
        }
        if self.errors:
            error["errors"] = self.errors
        body: dict[str, Any] = {"error": error}
        if request_id is not None:
            body["meta"] = {"request_id": request_id}
        return body


def not_found(object_id: str) -> PaddleError:
    """Paddle's 404 for an unknown id."""
    return PaddleError(404, "not_found", f"Entity {object_id} not found")


def invalid(field: str, message: str) -> PaddleError:
    """Paddle's 400 for a request that fails validation, naming the field at fault."""
    return PaddleError(
        400,
        "bad_request",
        "Invalid request.",
        errors=[{"field": field, "message": message}],
    )
