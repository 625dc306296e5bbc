"""Small builders shared by the emulator tests, all going through the SDK."""

from __future__ import annotations

from typing import Any

import stripe


def price(
    client: stripe.StripeClient,
    amount: int = 1000,
    interval: str | None = "month",
    *,
    product: str | None = None,
    **extra: Any,
) -> stripe.Price:
    params: dict[str, Any] = {"currency": "eur", "unit_amount": amount, **extra}
    if product:
        params["product"] = product
    else:
        params["product_data"] = {"name": "Plan"}
    if interval:
        params["recurring"] = {"interval": interval}
    return client.v1.prices.create(params)


def customer(
    client: stripe.StripeClient, payment_method: str | None = "pm_card_visa", **extra: Any
) -> stripe.Customer:
    params: dict[str, Any] = {"email": "jane@example.com", **extra}
    if payment_method:
        params["payment_method"] = payment_method
        params["invoice_settings"] = {"default_payment_method": payment_method}
    return client.v1.customers.create(params)


def subscription(
    client: stripe.StripeClient, customer_id: str, price_id: str, **extra: Any
) -> stripe.Subscription:
    return client.v1.subscriptions.create(
        {"customer": customer_id, "items": [{"price": price_id}], **extra}
    )
