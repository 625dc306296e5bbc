"""Discounts in the Paddle emulator: created through the SDK in the shape of Paddle's fixture,
taken off a checkout and the renewals they recur for (``details.totals.discount``, tax on what
is left), and read by the Paddle backend into the invoice's ``amount_discount``."""

from __future__ import annotations

from typing import Any

from paddle_billing.Entities.Discount import Discount
from paddle_billing.Entities.Discounts import DiscountType
from paddle_billing.Entities.Shared import CurrencyCode
from paddle_billing.Entities.Subscriptions import SubscriptionEffectiveFrom
from paddle_billing.Resources.Discounts.Operations import CreateDiscount
from paddle_billing.Resources.Subscriptions.Operations import UpdateSubscription
from paddle_billing.Resources.Subscriptions.Operations.Update.SubscriptionDiscount import (
    SubscriptionDiscount,
)
from paddle_billing.Resources.Transactions.Operations import CreateTransaction
from paddle_billing.Resources.Transactions.Operations.Create.TransactionCreateItem import (
    TransactionCreateItem,
)

from django_payments_sync.backends.paddle.objects import invoice_state
from django_payments_sync.testing.paddle_emulator import PaddleEmulator

from . import helpers
from .conftest import fixture
from .test_entities import raw

MONTH = 31 * 86400


def _discount(client: Any, amount: str, kind: DiscountType, **extra: Any) -> Any:
    return client.discounts.create(
        CreateDiscount(
            amount=amount,
            description="Launch",
            type=kind,
            enabled_for_checkout=True,
            currency_code=CurrencyCode.EUR,
            **extra,
        )
    )


def _totals(txn: dict[str, Any]) -> tuple[str, str, str, str]:
    totals = txn["details"]["totals"]
    return totals["subtotal"], totals["discount"], totals["tax"], totals["total"]


def test_a_recurring_percentage_from_checkout_then_not(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    twenty = _discount(
        client, "20", DiscountType.Percentage, recur=True, maximum_recurring_intervals=2
    )
    assert isinstance(twenty, Discount)
    shape = fixture("Functional/Resources/Discounts/_fixtures/response/full_entity.json")
    assert (
        helpers.shape_differences(raw(paddle_emulator, f"/discounts/{twenty.id}"), shape["data"])
        == []
    )

    price = helpers.price(client)
    buyer = helpers.customer(client)  # in Germany: 19 % on what the discount leaves
    txn = client.transactions.create(
        CreateTransaction(
            items=[TransactionCreateItem(price.id, 1)],
            customer_id=buyer[0].id,
            address_id=buyer[1].id,
            discount_id=twenty.id,
        )
    )
    paid = paddle_emulator.pay_transaction(txn.id)
    sub_id = paid["subscription_id"]
    assert client.subscriptions.get(sub_id).discount.id == twenty.id
    paddle_emulator.advance_clock(MONTH)
    paddle_emulator.advance_clock(MONTH)

    txns = sorted(
        (raw(paddle_emulator, f"/transactions/{t.id}") for t in client.transactions.list().items),
        key=lambda t: t["created_at"],
    )
    assert [_totals(t) for t in txns] == [
        ("1000", "200", "152", "952"),
        ("1000", "200", "152", "952"),
        ("1000", "0", "190", "1190"),
    ]
    invoice = invoice_state(txns[0])
    assert (invoice.subtotal, invoice.amount_discount, invoice.tax, invoice.total) == (
        1000,
        200,
        152,
        952,
    )
    assert invoice.amount_paid == 952


def test_a_flat_discount_on_a_subscription_takes_one_renewal(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    three = _discount(client, "300", DiscountType.Flat, recur=False)
    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    client.subscriptions.update(
        sub.id,
        UpdateSubscription(
            discount=SubscriptionDiscount(three.id, SubscriptionEffectiveFrom.NextBillingPeriod)
        ),
    )
    preview = raw(paddle_emulator, f"/subscriptions/{sub.id}?include=next_transaction")
    assert preview["next_transaction"]["details"]["totals"]["discount"] == "300"
    paddle_emulator.advance_clock(MONTH)
    paddle_emulator.advance_clock(MONTH)
    txns = sorted(
        (raw(paddle_emulator, f"/transactions/{t.id}") for t in client.transactions.list().items),
        key=lambda t: t["created_at"],
    )
    assert [_totals(t)[:2] for t in txns] == [("1000", "0"), ("1000", "300"), ("1000", "0")]
