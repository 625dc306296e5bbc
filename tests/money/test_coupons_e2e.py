"""Coupons end to end against the Stripe emulator: pushed by the real SDK over HTTP, a code at
checkout paid on the hosted page at the discounted amount, used up at its limit, and a code on a
subscription."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.interactor import payments
from django_payments_sync.models import (
    Coupon,
    ExternalCoupon,
    ExternalPromotionCode,
    ExternalSubscription,
    Order,
    PromotionCode,
)
from tests.checkout.test_emulator_e2e import press, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_code_at_checkout_then_used_up(shop: Any, api: APIClient, one_time: Any) -> None:
    coupon = Coupon.objects.create(
        name="Launch", percent_off=Decimal("20"), duration="once", max_redemptions=1
    )
    PromotionCode.objects.create(coupon=coupon, code="LAUNCH20")
    stripe_coupon = shop.client().v1.coupons.retrieve(ExternalCoupon.objects.get().external_id)
    assert (stripe_coupon.percent_off, stripe_coupon.name) == (20.0, "Launch")

    session = api.post(
        "/api/payment/checkout/", {"pricing": one_time.pk, "promotion_code": "launch20"}
    )
    assert session.status_code == 201, session.content
    at_stripe = shop.client().v1.checkout.sessions.retrieve(session.json()["id"])
    assert (at_stripe.amount_total, at_stripe.total_details.amount_discount) == (7920, 1980)
    press(session.json()["url"], "pay")
    settle(shop)

    order = Order.objects.get(pk=session.json()["order_id"])
    assert (order.status, order.amount, order.amount_discount) == ("paid", 7920, 1980)
    promo = shop.client().v1.promotion_codes.retrieve(
        ExternalPromotionCode.objects.get().external_id
    )
    assert promo.times_redeemed == 1
    again = api.post(
        "/api/payment/checkout/", {"pricing": one_time.pk, "promotion_code": "LAUNCH20"}
    )
    assert (again.status_code, again.json()["code"]) == (400, "promotion_code_used_up")
    # A refund of the discounted order refunds what was paid.
    assert payments.refund_order(order).amount == 7920


def test_a_code_on_a_subscription(shop: Any, api: APIClient, user: Any, monthly: Any) -> None:
    customer = payments.get_customer(user)
    from django_payments_sync.interactor.provider import ensure_customer_id

    shop.client().v1.customers.update(
        ensure_customer_id(customer),
        {"invoice_settings": {"default_payment_method": "pm_card_visa"}},
    )
    subscription = payments.create_subscription(customer, monthly)
    settle(shop)
    coupon = Coupon.objects.create(name="Loyal", amount_off=300, currency="eur", duration="forever")
    coupon.products.add(monthly.product)
    PromotionCode.objects.create(coupon=coupon, code="LOYAL3")

    answer = api.post(
        f"/api/payment/subscriptions/{subscription.pk}/discount/", {"promotion_code": "LOYAL3"}
    )

    assert answer.status_code == 200, answer.content
    external = ExternalSubscription.objects.get(subscription=subscription).external_id
    at_stripe = shop.client().v1.subscriptions.retrieve(external, {"expand": ["discounts"]})
    assert [d.promotion_code for d in at_stripe.discounts] == [
        ExternalPromotionCode.objects.get().external_id
    ]
    settle(shop)
