"""Benchmark of the catalog push against the Stripe emulator: 1,000 products with 2 prices each.

Measures API calls (HTTP requests, by method) and wall time of: the first push, a second push
with nothing changed, a push after 10 changes, and, for comparison, a pruning push and a diff
(both read the whole catalog in pages of 100).

Run from the repository root:

    PYTHONPATH=.:src .venv/bin/python benchmarks/catalog_sync.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import stripe


class CountingHTTPClient(stripe.RequestsClient):
    """The SDK's requests-based client, counting each HTTP attempt by method."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()

    def __deepcopy__(self, memo: dict[int, Any]) -> CountingHTTPClient:
        return self  # the settings layer deep-copies OPTIONS; keep one counter

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:  # type: ignore[override]
        self.counts[method.upper()] += 1
        self.paths[f"{method.upper()} {urlsplit(url).path}"] += 1
        return super().request(method, url, headers, post_data)


def measure(label: str, client: CountingHTTPClient, run: Callable[[], Any]) -> dict[str, Any]:
    client.counts.clear()
    client.paths.clear()
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    counts = dict(client.counts)
    writes = sum(n for method, n in counts.items() if method != "GET")
    row = {
        "label": label,
        "calls": sum(counts.values()),
        "writes": writes,
        "reads": counts.get("GET", 0),
        "seconds": seconds,
        "outcome": outcome,
    }
    print(
        f"{label:<28} {row['calls']:>6} calls ({row['writes']:>5} writes, {row['reads']:>3} reads)"
        f"  {seconds:8.2f} s   {outcome}"
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--prices-per-product", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from benchmarks.harness.catalog_bench import NO_BUDGET, seed_catalog
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from django_payments_sync.models import get_pricing_model, get_product_model
    from django_payments_sync.sync.push import diff, push_all
    from django_payments_sync.testing.stripe_emulator import StripeEmulator

    call_command("migrate", verbosity=0, run_syncdb=True)
    product_model, pricing_model = get_product_model(), get_pricing_model()

    with StripeEmulator() as emulator:
        client = CountingHTTPClient(timeout=30)
        options = {
            "api_key": "sk_test_benchmark",
            "api_base": emulator.url,
            "max_network_retries": 0,
            "http_client": client,
        }
        with override_settings(
            PAYMENTS_SYNC={**settings.PAYMENTS_SYNC, "OPTIONS": options, "AUTO_SYNC": False}
        ):
            seed_catalog(args.products, args.prices_per_product)
            total = args.products * (1 + args.prices_per_product)
            print(
                f"Catalog: {args.products} products x {args.prices_per_product} prices "
                f"({total} rows), emulator at {emulator.url}\n"
            )

            def push() -> dict[str, int]:
                report = push_all(customers=False, rate=NO_BUDGET)
                assert not report.failures, report.failures[:3]
                return {k: v for k, v in report.counts().items() if v}

            first = measure("first push", client, push)
            second = measure("second push (no change)", client, push)

            # Ten changes: 4 renamed products, 3 new amounts (price replaced), 3 new nicknames.
            for product in product_model.objects.order_by("pk")[:4]:
                product.name += " (renamed)"
                product.save()
            pricings = list(pricing_model.objects.order_by("pk")[10:16])
            for pricing in pricings[:3]:
                pricing.amount += 50
                pricing.save()
            for pricing in pricings[3:]:
                pricing.nickname = "Changed"
                pricing.save()
            third = measure("push after 10 changes", client, push)
            measure(
                "pruning push (no change)",
                client,
                lambda: push_all(prune=True, customers=False, rate=NO_BUDGET).counts()["unchanged"],
            )
            measure("diff", client, lambda: f"{len(diff())} differences")

    ok = second["writes"] == 0 and second["calls"] <= 25
    print(
        f"\nGoal (unchanged push: no write, at most 25 calls): {'met' if ok else 'NOT met'}; "
        f"first push {first['calls']} calls, after 10 changes {third['calls']} calls."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
