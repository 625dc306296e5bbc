"""Measure the Paddle emulator: median SDK round-trips (customers.create, a checkout paid, a
subscription read) through paddle-python-sdk, and start+stop time.

Run: python benchmarks/paddle_emulator_roundtrip.py [--calls N] [--starts M]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from paddle_billing.Entities.Shared import (
    CountryCode,
    CurrencyCode,
    Duration,
    Interval,
    Money,
    TaxCategory,
)
from paddle_billing.Resources.Addresses.Operations import CreateAddress
from paddle_billing.Resources.Customers.Operations import CreateCustomer
from paddle_billing.Resources.Prices.Operations import CreatePrice
from paddle_billing.Resources.Products.Operations import CreateProduct
from paddle_billing.Resources.Transactions.Operations import CreateTransaction
from paddle_billing.Resources.Transactions.Operations.Create.TransactionCreateItem import (
    TransactionCreateItem,
)

from django_payments_sync.testing.paddle_emulator import PaddleEmulator


def _timed(calls: int, step: Callable[[int], object]) -> list[float]:
    timings = []
    for i in range(calls):
        started = time.perf_counter()
        step(i)
        timings.append(time.perf_counter() - started)
    return timings


def _report(label: str, timings: list[float]) -> None:
    p95 = sorted(timings)[int(len(timings) * 0.95)]
    print(f"{label}, {len(timings)} calls:")
    print(f"  median {statistics.median(timings) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls to time per operation")
    parser.add_argument("--starts", type=int, default=20, help="start+stop cycles to time")
    args = parser.parse_args()

    cycles = _timed(args.starts, lambda _: PaddleEmulator().start().stop())

    with PaddleEmulator() as emulator:
        client = emulator.client()
        client.customers.create(CreateCustomer(email="warm@example.com"))
        creates = _timed(
            args.calls,
            lambda i: client.customers.create(
                CreateCustomer(email=f"c{i}@example.com", custom_data={"i": str(i)})
            ),
        )
        product = client.products.create(CreateProduct(name="Pro", tax_category=TaxCategory.SaaS))
        price = client.prices.create(
            CreatePrice(
                description="Monthly",
                product_id=product.id,
                unit_price=Money("1000", CurrencyCode.EUR),
                billing_cycle=Duration(Interval.Month, 1),
            )
        )
        subscriptions: list[str] = []

        def checkout(i: int) -> None:
            customer = client.customers.create(CreateCustomer(email=f"s{i}@example.com"))
            address = client.addresses.create(customer.id, CreateAddress(CountryCode.DE))
            txn = client.transactions.create(
                CreateTransaction(
                    items=[TransactionCreateItem(price.id, 1)],
                    customer_id=customer.id,
                    address_id=address.id,
                )
            )
            subscriptions.append(emulator.pay_transaction(txn.id)["subscription_id"])

        checkouts = _timed(args.calls // 3 or 1, checkout)
        reads = _timed(args.calls, lambda i: client.subscriptions.get(subscriptions[i % 10]))

    _report("customers.create via paddle_billing SDK", creates)
    _report("checkout (customer, address, transaction, paid -> subscription)", checkouts)
    _report("subscriptions.get via paddle_billing SDK", reads)
    print(f"start+stop, {args.starts} cycles:")
    print(f"  median {statistics.median(cycles) * 1000:.1f} ms, max {max(cycles) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
