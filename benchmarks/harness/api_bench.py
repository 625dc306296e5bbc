"""API requests per second and queries per request: GET and PATCH billing, GET plans."""

from __future__ import annotations

import json
from typing import Any

from .loadgen import Request, run_load
from .procs import Emulator


def billing_requests(sessions: list[dict[str, str]], n: int, method: str) -> list[Request]:
    """``n`` requests spread over the logged-in users; each PATCH changes one field."""
    out = []
    for k in range(n):
        s = sessions[k % len(sessions)]
        headers = {
            "Cookie": f"sessionid={s['sessionid']}; csrftoken={s['csrftoken']}",
            "Accept": "application/json",
        }
        body = b""
        if method == "PATCH":
            headers |= {"Content-Type": "application/json", "X-CSRFToken": s["csrftoken"]}
            body = json.dumps({"address_line2": f"Floor {k}"}).encode()
        out.append(Request(method, "/api/payment/billing/", body, headers))
    return out


def plans_requests(n: int) -> list[Request]:
    """``n`` anonymous reads of the public plan catalog, as a pricing page makes them."""
    return [
        Request("GET", "/api/payment/plans/", headers={"Accept": "application/json"})
        for _ in range(n)
    ]


def run_kind(
    port: int, requests: list[Request], emulator: Emulator, concurrency: int
) -> dict[str, Any]:
    before = emulator.stats()["total"]
    result = run_load("127.0.0.1", port, requests, concurrency=concurrency, time_limit=120)
    calls = emulator.stats()["total"] - before
    return {
        **result.as_dict(),
        "api_calls": calls,
        "api_calls_per_request": calls / result.sent if result.sent else float("nan"),
    }
