"""Catalog sync, our side: the library's push of a 1,000-product catalog, phase by phase."""

# Runs under the library's benchmark site (fresh database) against an emulator process whose request
# counter is at --stats-url; the steps of benchmarks/catalog_sync.py (first push, unchanged push,
# 10 changes), with the settings a user gets (AUTO_SYNC on: the 10 changes are pushed after each
# save's commit, and the push that follows finds what is left).

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any


def _calls(stats_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(stats_url, timeout=10) as response:
        return json.loads(response.read())


def measure(stats_url: str, run: Callable[[], Any]) -> dict[str, Any]:
    """Wall time and emulator requests (total, writes) of ``run()``."""
    before = _calls(stats_url)
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    after = _calls(stats_url)
    routes = {
        k: v - before["routes"].get(k, 0)
        for k, v in after["routes"].items()
        if v - before["routes"].get(k, 0)
    }
    return {
        "seconds": seconds,
        "calls": after["total"] - before["total"],
        "writes": sum(n for k, n in routes.items() if not k.startswith("GET ")),
        "routes": routes,
        "outcome": outcome,
    }


#: A rate budget (operations/s) no push reaches: the push's own speed, not the limiter's.
NO_BUDGET = 1e9


def seed_catalog(products: int, prices_per_product: int = 2) -> None:
    """The benchmark catalog, saved locally with nothing pushed yet (like an import).

    ``bulk_create`` sends no save signals, so automatic sync does not push it.
    """
    from django_payments_sync.models import get_pricing_model, get_product_model

    product_model, pricing_model = get_product_model(), get_pricing_model()
    rows = product_model.objects.bulk_create(
        product_model(name=f"Plan {n}", description="Benchmark", metadata={"n": n})
        for n in range(products)
    )
    pricing_model.objects.bulk_create(
        pricing_model(
            product=product,
            amount=1000 + 100 * k,
            currency="eur",
            interval="month" if k % 2 == 0 else "year",
        )
        for product in rows
        for k in range(prices_per_product)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--stats-url", required=True)
    args = parser.parse_args()
    import django

    django.setup()
    from django_payments_sync.models import get_pricing_model, get_product_model
    from django_payments_sync.sync.push import push_all

    product_model, pricing_model = get_product_model(), get_pricing_model()
    seed_catalog(args.products)

    def push() -> dict[str, int]:
        # The calls and the library's own time, not the rate budget (push_bench measures that):
        # a budget no push reaches.
        report = push_all(customers=False, rate=NO_BUDGET)
        counts = {k: v for k, v in report.counts().items() if v}
        if report.failures:
            counts["failures"] = len(report.failures)
        return counts

    def ten_changes_then_push() -> dict[str, int]:
        # 4 renamed products, 3 new amounts (price replaced), 3 new nicknames: saved as a user
        # saves them (auto-sync after commit), then the push a cron job would run.
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
        return push()

    result = {
        "products": args.products,
        "prices": args.products * 2,
        "first_push": measure(args.stats_url, push),
        "unchanged_push": measure(args.stats_url, push),
        "after_10_changes": measure(args.stats_url, ten_changes_then_push),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
