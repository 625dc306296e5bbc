"""Measure the Stripe emulator: median SDK round-trip of customers.create, and start+stop time.

Run: python benchmarks/emulator_roundtrip.py [--calls N] [--starts M]
"""

from __future__ import annotations

import argparse
import statistics
import time

from django_payments_sync.testing.stripe_emulator import StripeEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500, help="customers.create calls to time")
    parser.add_argument("--starts", type=int, default=20, help="start+stop cycles to time")
    args = parser.parse_args()

    cycles = []
    for _ in range(args.starts):
        started = time.perf_counter()
        StripeEmulator().start().stop()
        cycles.append(time.perf_counter() - started)

    with StripeEmulator() as emulator:
        client = emulator.client()
        client.v1.customers.create({"email": "warm@example.com"})  # first call resolves hints
        timings = []
        for i in range(args.calls):
            started = time.perf_counter()
            client.v1.customers.create({"email": f"c{i}@example.com", "metadata": {"i": str(i)}})
            timings.append(time.perf_counter() - started)

    print(f"customers.create via stripe SDK, {args.calls} calls:")
    print(f"  median {statistics.median(timings) * 1000:.2f} ms")
    print(f"  p95    {sorted(timings)[int(len(timings) * 0.95)] * 1000:.2f} ms")
    print(f"start+stop, {args.starts} cycles:")
    print(f"  median {statistics.median(cycles) * 1000:.1f} ms, max {max(cycles) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
