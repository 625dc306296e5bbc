"""Command line: `python -m django_payments_sync.testing.paddle_emulator --port 12112`."""

from __future__ import annotations

from ..emulator_kit import cli
from .emulator import DEFAULT_API_KEY, PaddleEmulator


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("Paddle Billing", "django_payments_sync.testing.paddle_emulator", 12112)
    parser.add_argument(
        "--api-key",
        default=DEFAULT_API_KEY,
        help=f"the only API key accepted (default {DEFAULT_API_KEY}); 'any' accepts every key",
    )
    parser.add_argument(
        "--dunning-exhausted-action",
        default="subscription_canceled",
        choices=["subscription_canceled", "subscription_paused"],
        help="what a renewal unpaid after dunning leads to",
    )
    args = parser.parse_args(argv)
    emulator = PaddleEmulator(
        args.host,
        args.port,
        api_key=None if args.api_key == "any" else args.api_key,
        public_url=args.public_url,
        webhook_retry_backoff=args.webhook_retry_backoff,
        webhook_max_attempts=args.webhook_max_attempts,
        seed=args.seed,
        dunning_exhausted_action=args.dunning_exhausted_action,
        verbose=args.verbose,
    )
    key = "any key" if emulator.api_key is None else emulator.api_key
    cli.serve(emulator, f"Paddle emulator listening on {{url}} (API key: {key})")


if __name__ == "__main__":
    main()
