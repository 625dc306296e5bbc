"""The `/_emulator/` control endpoints: plain JSON, no API key, beside the provider's API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from .emulator import EmulatorBase


def _body(raw: str) -> dict[str, Any]:
    if not raw:
        return {}
    if raw.lstrip().startswith("{"):
        loaded = json.loads(raw)
        return loaded if isinstance(loaded, dict) else {}
    return dict(parse_qsl(raw))


def handle_control(emulator: EmulatorBase, method: str, path: str, raw: str) -> tuple[int, Any]:
    """Answer one control request with (status, JSON payload)."""
    try:
        body = _body(raw)
    except ValueError:
        return 400, {"error": "body must be JSON"}
    action = path[len("/_emulator") :].strip("/")
    try:
        return _route(emulator, method, action, body)
    except TimeoutError as exc:
        return 504, {"error": str(exc)}
    except (ValueError, KeyError, TypeError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}


def _route(
    emulator: EmulatorBase, method: str, action: str, body: dict[str, Any]
) -> tuple[int, Any]:
    if (method, action) == ("GET", "state"):
        return 200, emulator.state()
    if (method, action) == ("POST", "reset"):
        emulator.reset()
        return 200, {"reset": True}
    if (method, action) == ("GET", "clock"):
        return 200, {"now": emulator.now()}
    if (method, action) == ("POST", "clock/advance"):
        return 200, {"now": emulator.advance_clock(int(body["seconds"]))}
    if (method, action) == ("GET", "deliveries"):
        return 200, {"deliveries": emulator.deliveries, "pending": emulator.pending_deliveries()}
    if (method, action) == ("POST", "deliveries/mode"):
        emulator.set_delivery_mode(str(body["mode"]))
        return 200, {"mode": body["mode"]}
    if (method, action) == ("POST", "deliveries/pause"):
        emulator.pause_deliveries()
        return 200, {"paused": True}
    if (method, action) == ("POST", "deliveries/resume"):
        emulator.resume_deliveries()
        return 200, {"paused": False}
    if (method, action) == ("POST", "deliveries/flush"):
        return 200, {"deliveries": emulator.flush(float(body.get("timeout", 10)))}
    if (method, action) == ("POST", "deliveries/wait"):
        return 200, {"deliveries": emulator.wait_for_deliveries(float(body.get("timeout", 10)))}
    if (method, action) == ("GET", "faults"):
        return 200, {"faults": emulator.faults.active()}
    if (method, action) == ("POST", "faults"):
        fault = emulator.inject_fault(
            str(body["route"]),
            str(body["kind"]),
            float(body.get("share", 1.0)),
            count=int(body["count"]) if body.get("count") is not None else None,
            delay=float(body.get("delay", 2.0)),
            seed=int(body.get("seed", 0)),
        )
        return 200, fault
    if (method, action) == ("DELETE", "faults"):
        emulator.clear_faults()
        return 200, {"faults": []}
    answer = emulator.control(method, action, body)
    if answer is not None:
        return answer
    return 404, {"error": f"no control endpoint {method} /_emulator/{action}"}
