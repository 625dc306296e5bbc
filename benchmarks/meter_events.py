"""Usage-based billing: how many meter events per second ``record_usage`` sustains into the
Stripe emulator, end to end (the local outbox insert, then the drain's SDK calls over HTTP).

Django comes from the test project's settings (``DJANGO_SETTINGS_MODULE=tests.settings``, set
here when unset: SQLite in memory), migrated at start; the emulator runs in this process.
Prints the insert rate of ``record_usage`` (the request-path cost), the drain rate (events sent
to the emulator per second, one ``POST /v1/billing/meter_events`` each) and the end-to-end rate,
and checks that the emulator counted every unit exactly once.

Run: python benchmarks/meter_events.py [--events N] [--batch B]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Run from anywhere: the test project's settings (tests.settings) live at the repository root.
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500, help="USAGE['BATCH_SIZE']")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test.utils import override_settings

    from django_payments_sync.interactor import payments
    from django_payments_sync.interactor.usage import send_usage
    from django_payments_sync.models import ExternalCustomer, ExternalMeter, Meter
    from django_payments_sync.testing.stripe_emulator import StripeEmulator

    call_command("migrate", verbosity=0, run_syncdb=True)
    with StripeEmulator() as emulator:
        options = {
            "api_key": "sk_test_benchmark",
            "api_base": emulator.url,
            "max_network_retries": 0,
        }
        config = {
            **settings.PAYMENTS_SYNC,
            "BACKEND": "django_payments_sync.backends.stripe.StripeBackend",
            "OPTIONS": options,
            "USAGE": {"BATCH_SIZE": args.batch, "ENQUEUE": False},
        }
        with override_settings(PAYMENTS_SYNC=config):
            user = get_user_model().objects.create_user("bench", "bench@example.com")
            meter = Meter.objects.create(display_name="API calls", event_name="api_calls")
            payments.get_customer(user)
            send_usage()  # pushes the meter and the customer: not timed

            started = time.perf_counter()
            for n in range(args.events):
                payments.record_usage(user, meter, 1, identifier=f"bench-{n}")
            recorded = time.perf_counter() - started

            started = time.perf_counter()
            while send_usage().pending:
                pass
            drained = time.perf_counter() - started

            client = emulator.client()
            now = emulator.now()
            summary = client.v1.billing.meters.event_summaries.list(
                ExternalMeter.objects.get().external_id,
                {
                    "customer": ExternalCustomer.objects.get().external_id,
                    "start_time": now - 3600,
                    "end_time": now + 3600,
                },
            )
            counted = int(summary.data[0].aggregated_value)

    print(
        f"record_usage into the outbox: {args.events} events in {recorded:.2f} s, "
        f"{args.events / recorded:,.0f} events/s"
    )
    print(
        f"drain to the emulator (batch {args.batch}): {args.events} events in {drained:.2f} s, "
        f"{args.events / drained:,.0f} meter events/s"
    )
    total = recorded + drained
    print(f"end to end: {args.events / total:,.0f} meter events/s sustained")
    print(
        f"emulator counted {counted} of {args.events} units "
        f"({'exactly once' if counted == args.events else 'MISMATCH'})"
    )
    return 0 if counted == args.events else 1


if __name__ == "__main__":
    raise SystemExit(main())
