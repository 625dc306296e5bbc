"""Command line: `python -m django_payments_sync.testing.stripe_emulator --port 12111`."""

from __future__ import annotations

from ..emulator_kit import cli
from .emulator import StripeEmulator


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("Stripe", "django_payments_sync.testing.stripe_emulator", 12111)
    parser.add_argument(
        "--account", default=None, help="the account id GET /v1/account answers (acct_...)"
    )
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
    )
    cli.serve(emulator, "Stripe emulator listening on {url} (API key: any sk_test_...)")


if __name__ == "__main__":
    main()
