"""Command line: `python -m django_payments_sync.testing.stripe_emulator --port 12111`."""

from __future__ import annotations

import argparse
import signal
import threading

from .emulator import StripeEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m django_payments_sync.testing.stripe_emulator",
        description="Run the offline Stripe emulator until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=12111, help="port (0 picks a free one)")
    parser.add_argument("--public-url", default=None, help="base URL used in hosted page links")
    parser.add_argument(
        "--webhook-retry-backoff", type=float, default=0.5, help="first retry delay in seconds"
    )
    parser.add_argument("--webhook-max-attempts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None, help="make ids reproducible")
    parser.add_argument(
        "--account", default=None, help="the account id GET /v1/account answers (acct_...)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    emulator = StripeEmulator(
        args.host,
        args.port,
        public_url=args.public_url,
        webhook_retry_backoff=args.webhook_retry_backoff,
        webhook_max_attempts=args.webhook_max_attempts,
        seed=args.seed,
        account_id=args.account,
        verbose=args.verbose,
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"Stripe emulator listening on {emulator.url} (API key: any sk_test_...)", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
