"""The catalog push against its rate budget: N products x 2 prices, pushed into an emulator process
by the library's concurrent push at a given rate; the operations a second it achieved."""

# Runs under the library's benchmark site (a fresh database) against an emulator process whose
# request counter is at --stats-url. Prints one JSON line: the operations the emulator answered,
# the seconds, ops/s against the budget, and whether a second push is idle.

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="the budget, operations/s")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--stats-url", required=True)
    args = parser.parse_args()
    import django

    django.setup()
    from django_payments_sync.conf import payments_settings
    from django_payments_sync.sync.push import push_all

    from .catalog_bench import measure, seed_catalog

    seed_catalog(args.products)
    concurrency = args.concurrency or int(payments_settings.PUSH["CONCURRENCY"])

    def push() -> dict[str, int]:
        report = push_all(customers=False, rate=args.rate, concurrency=concurrency)
        counts = {k: v for k, v in report.counts().items() if v}
        if report.failures:
            counts["failures"] = len(report.failures)
        return counts

    started = time.perf_counter()
    first = measure(args.stats_url, push)
    first["wall_seconds"] = time.perf_counter() - started
    second = measure(args.stats_url, push)
    ops_per_s = first["calls"] / first["seconds"] if first["seconds"] else 0.0
    print(
        json.dumps(
            {
                "products": args.products,
                "prices": args.products * 2,
                "budget": args.rate,
                "concurrency": concurrency,
                "ops": first["calls"],
                "seconds": first["seconds"],
                "ops_per_s": ops_per_s,
                "of_budget": ops_per_s / args.rate,
                "outcome": first["outcome"],
                "routes": first["routes"],
                "second_push_calls": second["calls"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
