"""What every backend's webhook verification needs of a request: a header whatever its case,
and the signed body as a JSON object the database can store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django_payments_sync.exceptions import WebhookVerificationError


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever the case (Django's ``request.headers`` or a plain dict)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError("The webhook body is not UTF-8 text.") from exc


def json_object(text: str) -> dict[str, Any]:
    """The signed body as a JSON object, without what no database stores (NUL characters,
    ``NaN``); :class:`WebhookVerificationError` for anything else."""
    try:
        payload = json.loads(text, parse_constant=_not_json)
    except ValueError as exc:
        raise WebhookVerificationError("The webhook body is not JSON.") from exc
    except RecursionError as exc:
        # Signed, yet nested deeper than the parser goes: no provider's event is.
        raise WebhookVerificationError("The webhook body is nested too deeply.") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("The webhook body is not a JSON object.")
    if "\\u0000" in text:
        payload = _without_nul(payload)
    return payload


def _without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from its strings and keys: PostgreSQL stores
    none (in ``text`` or ``jsonb``), and they mean nothing in a provider's object."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _not_json(name: str) -> Any:
    """``NaN`` and ``Infinity`` are Python's extensions, not JSON: no database stores them."""
    raise ValueError(f"{name} is not a JSON value")
