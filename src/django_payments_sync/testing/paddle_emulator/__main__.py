"""Command line: `python -m django_payments_sync.testing.paddle_emulator --port 12112`."""

from __future__ import annotations

import argparse
import signal
import threading

from .emulator import DEFAULT_API_KEY, PaddleEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m django_payments_sync.testing.paddle_emulator",
        description="Run the offline Paddle Billing emulator until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=12112, help="port (0 picks a free one)")
    parser.add_argument("--public-url", default=None, help="base URL used in checkout links")
    parser.add_argument(
        "--api-key",
        default=DEFAULT_API_KEY,
        help=f"the only API key accepted (default {DEFAULT_API_KEY}); 'any' accepts every key",
    )
    parser.add_argument(
        "--webhook-retry-backoff", type=float, default=0.5, help="first retry delay in seconds"
    )
    parser.add_argument("--webhook-max-attempts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None, help="make ids reproducible")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    emulator = PaddleEmulator(
        args.host,
        args.port,
        api_key=None if args.api_key == "any" else args.api_key,
        public_url=args.public_url,
        webhook_retry_backoff=args.webhook_retry_backoff,
        webhook_max_attempts=args.webhook_max_attempts,
        seed=args.seed,
        verbose=args.verbose,
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    key = "any key" if emulator.api_key is None else emulator.api_key
    print(f"Paddle emulator listening on {emulator.url} (API key: {key})", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
