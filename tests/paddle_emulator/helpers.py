"""Builders shared by the Paddle emulator tests, all through the SDK, and a shape comparison."""

from __future__ import annotations

import itertools
from typing import Any

from paddle_billing import Client
from paddle_billing.Entities.Shared import (
    CountryCode,
    CurrencyCode,
    Duration,
    Interval,
    Money,
    PriceTrialPeriod,
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


def price(
    client: Client,
    amount: str = "1000",
    *,
    interval: Interval | None = Interval.Month,
    trial_days: int | None = None,
    product_id: str | None = None,
) -> Any:
    if product_id is None:
        product_id = client.products.create(
            CreateProduct(name="Pro", tax_category=TaxCategory.Standard)
        ).id
    return client.prices.create(
        CreatePrice(
            description="Monthly" if interval else "Once",
            product_id=product_id,
            unit_price=Money(amount, CurrencyCode.EUR),
            billing_cycle=Duration(interval, 1) if interval else None,
            trial_period=PriceTrialPeriod(Interval.Day, trial_days) if trial_days else None,
        )
    )


def customer(client: Client, email: str = "jane@example.com", country: str = "DE") -> Any:
    """A customer with one address; returns (customer, address)."""
    created = client.customers.create(CreateCustomer(email=email, name="Jane"))
    address = client.addresses.create(created.id, CreateAddress(country_code=CountryCode(country)))
    return created, address


def checkout(client: Client, price_id: str, quantity: int = 1, *, buyer: Any = None) -> Any:
    """A transaction for `price_id`, for `buyer` (customer, address) when given."""
    owner = {}
    if buyer is not None:
        owner = {"customer_id": buyer[0].id, "address_id": buyer[1].id}
    return client.transactions.create(
        CreateTransaction(items=[TransactionCreateItem(price_id, quantity)], **owner)
    )


_buyers = itertools.count(1)


def subscribed(
    client: Client, emulator: Any, price_id: str, quantity: int = 1, *, buyer: Any = None
) -> Any:
    """A customer (a new one by default) who paid a checkout for `price_id`: returns the
    subscription."""
    buyer = buyer or customer(client, f"buyer{next(_buyers)}@example.com")
    txn = checkout(client, price_id, quantity, buyer=buyer)
    paid = emulator.pay_transaction(txn.id)
    return client.subscriptions.get(paid["subscription_id"])


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where `ours` lacks a key of Paddle's `theirs`, has one it lacks, or a value's JSON type
    differs (nulls match anything; lists compare their first elements)."""
    if ours is None or theirs is None:
        return []
    if _kind(ours) != _kind(theirs):
        return [f"{path or '.'}: {_kind(ours)} where Paddle has {_kind(theirs)}"]
    if isinstance(ours, dict):
        if path.endswith("custom_data") or path.endswith("import_meta"):
            return []
        out = [f"{path}.{k}: missing" for k in theirs if k not in ours]
        out += [f"{path}.{k}: not in Paddle's" for k in ours if k not in theirs]
        for key in ours.keys() & theirs.keys():
            out += shape_differences(ours[key], theirs[key], f"{path}.{key}")
        return out
    if isinstance(ours, list) and ours and theirs:
        return shape_differences(ours[0], theirs[0], f"{path}[0]")
    return []
