"""Discounts in invoices, previews, plans and subscriptions with the in-memory provider: the same
totals as the Stripe emulator's (tests/money/test_discounts_e2e.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.models import (
    Coupon,
    ExternalSubscription,
    Invoice,
    PromotionCode,
    Subscription,
    WebhookEventStatus,
)
from tests.checkout.conftest import CHECKOUT_URL, deliver

pytestmark = pytest.mark.django_db(transaction=True)


def _checkout(api: APIClient, locmem: Any, pricing: Any, code: str, quantity: int = 1) -> Any:
    session = api.post(
        CHECKOUT_URL, {"pricing": pricing.pk, "quantity": quantity, "promotion_code": code}
    )
    assert session.status_code == 201, session.content
    locmem.complete_checkout(session.json()["id"])
    assert WebhookEventStatus.FAILED not in deliver(locmem)
    return Subscription.objects.get()


def _renew(locmem: Any, subscription: Subscription) -> None:
    locmem.renew(ExternalSubscription.objects.get(subscription=subscription).external_id)
    assert WebhookEventStatus.FAILED not in deliver(locmem)


def test_a_repeating_percentage_discounts_two_invoices(
    locmem: Any, api: APIClient, monthly: Any
) -> None:
    coupon = Coupon.objects.create(
        name="Twenty", percent_off=Decimal("20"), duration="repeating", duration_in_months=2
    )
    PromotionCode.objects.create(coupon=coupon, code="TWENTY")
    subscription = _checkout(api, locmem, monthly, "twenty", quantity=2)
    first = next(iter(locmem.invoices.values()))
    assert (first.subtotal, first.amount_discount, first.amount_paid) == (3000, 600, 2400)
    assert api.get("/api/payment/subscriptions/").json()[0]["discount"]["promotion_code"] == (
        "TWENTY"
    )

    # The first renewal (the second invoice) is the discount's last: the next is not discounted.
    _renew(locmem, subscription)
    preview = api.get(f"/api/payment/subscriptions/{subscription.pk}/preview/").json()
    assert (preview["amount_discount"], preview["total"], preview["discount"]) == (0, 3000, None)
    _renew(locmem, subscription)

    rows = Invoice.objects.filter(subscription=subscription).order_by("issued_at", "pk")
    assert [(r.subtotal, r.amount_discount, r.total, r.amount_paid) for r in rows] == [
        (3000, 600, 2400, 2400),
        (3000, 0, 3000, 3000),
    ]
    listed = api.get("/api/payment/invoices/").json()
    assert sorted(i["amount_discount"] for i in listed) == [0, 600]


def test_an_amount_off_in_the_preview_and_the_next_invoice(
    locmem: Any, api: APIClient, monthly: Any
) -> None:
    coupon = Coupon.objects.create(name="Loyal", amount_off=300, currency="eur", duration="forever")
    PromotionCode.objects.create(coupon=coupon, code="LOYAL3")
    subscription = _checkout(api, locmem, monthly, "LOYAL3")

    preview = api.get(f"/api/payment/subscriptions/{subscription.pk}/preview/").json()
    assert (preview["subtotal"], preview["amount_discount"], preview["total"]) == (1500, 300, 1200)
    assert preview["lines"][-1]["amount_discount"] == 300
    assert preview["discount"]["amount_off"] == 300
    assert preview["discount"]["ends_at"] is None
    _renew(locmem, subscription)
    _renew(locmem, subscription)
    rows = Invoice.objects.filter(subscription=subscription)
    assert [(r.amount_discount, r.total) for r in rows] == [(300, 1200), (300, 1200)]


def test_plans_with_a_code(locmem: Any, api: APIClient, monthly: Any, one_time: Any) -> None:
    coupon = Coupon.objects.create(name="Team", percent_off=Decimal("10"), duration="once")
    coupon.products.add(monthly.product)
    PromotionCode.objects.create(coupon=coupon, code="TEAM10", max_redemptions=1)

    plans = APIClient().get("/api/payment/plans/", {"promotion_code": "team10"}).json()
    prices = {p["id"]: p for plan in plans for p in plan["prices"]}
    assert (prices[monthly.pk]["amount_discount"], prices[monthly.pk]["discounted_amount"]) == (
        150,
        1350,
    )
    # Not for the other product: its price as it is.
    assert (prices[one_time.pk]["amount_discount"], prices[one_time.pk]["discounted_amount"]) == (
        0,
        9900,
    )

    _checkout(api, locmem, monthly, "TEAM10")  # its one redemption
    used_up = APIClient().get("/api/payment/plans/", {"promotion_code": "TEAM10"})
    assert (used_up.status_code, used_up.json()["code"]) == (400, "promotion_code_used_up")


def test_a_checkouts_code_is_its_subscriptions_discount_in_either_order(
    locmem: Any, api: APIClient, monthly: Any
) -> None:
    from django_payments_sync.backends.types import EventKind
    from django_payments_sync.interactor import payments

    coupon = Coupon.objects.create(name="Loyal", amount_off=300, currency="eur", duration="forever")
    PromotionCode.objects.create(coupon=coupon, code="LOYAL3")
    session = api.post(CHECKOUT_URL, {"pricing": monthly.pk, "promotion_code": "LOYAL3"}).json()
    locmem.complete_checkout(session["id"])
    events = locmem.pop_events()
    # The checkout's completion first: the subscription's own event links the order later.
    events.sort(key=lambda e: e.kind is not EventKind.CHECKOUT_COMPLETED)
    for event in events:
        body, headers = locmem.signed_request(event)
        assert payments.handle_webhook(body, headers).status != WebhookEventStatus.FAILED
    subscription = Subscription.objects.get()
    assert subscription.discount.promotion_code.code == "LOYAL3"
    assert subscription.orders.get().promotion_code.code == "LOYAL3"
