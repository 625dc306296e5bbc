"""The Stripe emulator as a process, with a side port reporting how many API calls it answered."""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django_payments_sync.testing.stripe_emulator import StripeEmulator
from django_payments_sync.testing.stripe_emulator import server as emulator_server

ROUTES: Counter[str] = Counter()


def _count_routes() -> None:
    """Count each ``/v1/`` request by route, wrapping the emulator's router from outside."""
    original = emulator_server.match

    def counting_match(method: str, path: str) -> Any:
        found = original(method, path)
        if found is None:
            shape = re.sub(r"/[a-z]+_[A-Za-z0-9]{8,}", "/{id}", path)
            ROUTES[f"{method} {shape} (not served)"] += 1
        else:
            pattern = found[0].regex.pattern.strip("^$").replace("([^/]+)", "{id}")
            ROUTES[f"{method} {pattern}"] += 1
        return found

    emulator_server.match = counting_match


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats-port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    _count_routes()
    emulator = StripeEmulator("127.0.0.1", args.port, seed=args.seed).start()

    class Stats(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:
            with emulator.store.lock:
                body = json.dumps(
                    {"total": emulator.store.request_count, "routes": dict(ROUTES)}
                ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    stats = ThreadingHTTPServer(("127.0.0.1", args.stats_port), Stats)
    stats.daemon_threads = True
    threading.Thread(target=stats.serve_forever, daemon=True).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"emulator {emulator.url} stats 127.0.0.1:{args.stats_port}", flush=True)
    try:
        stopped.wait()
    finally:
        stats.shutdown()
        emulator.stop()


if __name__ == "__main__":
    main()
