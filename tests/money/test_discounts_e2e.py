"""Discounts in invoices, previews, plans and subscriptions, end to end against the Stripe
emulator: the real SDK over HTTP, the emulator's real webhooks back to the live server.

A 20% code repeating for two months, redeemed at checkout, discounts the first two monthly
invoices and not the third; the local invoices and ``GET invoices/`` say what the emulator's
invoices say, field by field. An amount off applied to a running subscription discounts the
next invoice and its preview. Codes that cannot be redeemed are refused with their reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from django_payments_sync.models import (
    Coupon,
    ExternalSubscription,
    Invoice,
    PromotionCode,
    Subscription,
)
from tests.checkout.test_emulator_e2e import checkout, press, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DAY = 86_400


def _when(timestamp: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC) if timestamp is not None else None


def _at_stripe(invoice: Any) -> dict[str, Any]:
    """An emulator invoice in the local record's terms."""
    return {
        "number": invoice.number,
        "status": invoice.status,
        "billing_reason": invoice.billing_reason,
        "currency": invoice.currency,
        "subtotal": invoice.subtotal,
        "amount_discount": sum(t.amount for t in invoice.total_discount_amounts),
        "tax": sum(t.amount for t in invoice.total_taxes),
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": invoice.amount_remaining,
        "hosted_invoice_url": invoice.hosted_invoice_url,
        "invoice_pdf": invoice.invoice_pdf,
        "period_start": _when(invoice.period_start),
        "period_end": _when(invoice.period_end),
        "issued_at": _when(invoice.created),
    }


def _local(row: Invoice) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _FIELDS}


_FIELDS = (
    "number",
    "status",
    "billing_reason",
    "currency",
    "subtotal",
    "amount_discount",
    "tax",
    "total",
    "amount_due",
    "amount_paid",
    "amount_remaining",
    "hosted_invoice_url",
    "invoice_pdf",
    "period_start",
    "period_end",
    "issued_at",
)


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """An item of ``GET invoices/`` in the same terms (dates parsed)."""
    out = {name: item[name] for name in _FIELDS}
    for name in ("period_start", "period_end", "issued_at"):
        out[name] = dt.datetime.fromisoformat(out[name]) if out[name] else None
    return out


def test_a_repeating_percentage_discounts_two_invoices_everywhere(
    shop: Any, api: APIClient, monthly: Any, yearly: Any
) -> None:
    coupon = Coupon.objects.create(
        name="Twenty", percent_off=Decimal("20"), duration="repeating", duration_in_months=2
    )
    PromotionCode.objects.create(coupon=coupon, code="TWENTY")

    plans = api.get("/api/payment/plans/", {"promotion_code": "twenty"})
    assert plans.status_code == 200, plans.content
    prices = {p["id"]: p for plan in plans.json() for p in plan["prices"]}
    assert (prices[monthly.pk]["amount_discount"], prices[monthly.pk]["discounted_amount"]) == (
        300,
        1200,
    )
    assert prices[yearly.pk]["discounted_amount"] == 12000
    plain = api.get("/api/payment/plans/").json()
    assert {p["discounted_amount"] for plan in plain for p in plan["prices"]} == {1500, 15000}

    session = api.post(
        "/api/payment/checkout/", {"pricing": monthly.pk, "quantity": 2, "promotion_code": "TWENTY"}
    )
    assert session.status_code == 201, session.content
    press(session.json()["url"], "pay")
    settle(shop)
    subscription = Subscription.objects.get()

    shown = api.get("/api/payment/subscriptions/").json()[0]
    assert shown["promotion_code"] == "TWENTY"
    discount = shown["discount"]
    assert (discount["percent_off"], discount["amount_off"]) == ("20.00", None)
    assert (discount["duration"], discount["duration_in_months"]) == ("repeating", 2)
    ends = dt.datetime.fromisoformat(discount["ends_at"])
    assert timezone.now() + dt.timedelta(days=58) < ends < timezone.now() + dt.timedelta(days=63)

    preview = api.get(f"/api/payment/subscriptions/{subscription.pk}/preview/").json()
    assert (preview["subtotal"], preview["amount_discount"], preview["total"]) == (3000, 600, 2400)
    assert [line["amount_discount"] for line in preview["lines"]] == [600]
    assert preview["discount"]["promotion_code"] == "TWENTY"

    shop.advance_clock(32 * DAY)
    settle(shop)
    # The second invoice was the discount's last: the next one is not discounted.
    preview = api.get(f"/api/payment/subscriptions/{subscription.pk}/preview/").json()
    assert (preview["amount_discount"], preview["total"], preview["discount"]) == (0, 3000, None)
    shop.advance_clock(32 * DAY)
    settle(shop)

    external = ExternalSubscription.objects.get(subscription=subscription).external_id
    at_stripe = list(reversed(shop.client().v1.invoices.list({"subscription": external}).data))
    assert [(i.subtotal, i.total, i.amount_paid) for i in at_stripe] == [
        (3000, 2400, 2400),
        (3000, 2400, 2400),
        (3000, 3000, 3000),
    ]
    rows = Invoice.objects.filter(subscription=subscription).order_by("issued_at", "pk")
    assert [_local(row) for row in rows] == [_at_stripe(i) for i in at_stripe]
    listed = sorted(api.get("/api/payment/invoices/").json(), key=lambda i: i["issued_at"])
    assert [_shown(item) for item in listed] == [_at_stripe(i) for i in at_stripe]
    assert [item["amount_discount"] for item in listed] == [600, 600, 0]


def test_an_amount_off_on_a_running_subscription(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    session = checkout(api, monthly)
    press(session["url"], "pay")
    settle(shop)
    subscription = Subscription.objects.get()
    coupon = Coupon.objects.create(name="Loyal", amount_off=400, currency="eur", duration="once")
    PromotionCode.objects.create(coupon=coupon, code="LOYAL4")

    answer = api.post(
        f"/api/payment/subscriptions/{subscription.pk}/discount/", {"promotion_code": "loyal4"}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["discount"]["amount_off"] == 400
    assert answer.json()["discount"]["ends_at"] is None
    settle(shop)
    preview = api.get(
        f"/api/payment/subscriptions/{subscription.pk}/preview/", {"quantity": 1}
    ).json()
    assert (preview["subtotal"], preview["amount_discount"], preview["total"]) == (1500, 400, 1100)
    assert preview["amount_due"] == 1100

    shop.advance_clock(32 * DAY)
    settle(shop)
    first, renewal = Invoice.objects.filter(subscription=subscription).order_by("issued_at", "pk")
    assert (first.amount_discount, first.total) == (0, 1500)
    assert (renewal.subtotal, renewal.amount_discount, renewal.total) == (1500, 400, 1100)
    assert renewal.amount_paid == 1100
    at_stripe = shop.client().v1.invoices.retrieve(renewal.external_id)
    assert _local(renewal) == _at_stripe(at_stripe)


def test_codes_that_cannot_be_redeemed_are_refused_clearly(
    shop: Any, api: APIClient, monthly: Any
) -> None:
    coupon = Coupon.objects.create(name="Old", percent_off=Decimal("10"), duration="forever")
    PromotionCode.objects.create(
        coupon=coupon, code="GONE", expires_at=timezone.now() - dt.timedelta(days=1)
    )
    PromotionCode.objects.create(coupon=coupon, code="OFF", active=False)
    elsewhere = Coupon.objects.create(name="Usd", amount_off=100, currency="usd", duration="once")
    PromotionCode.objects.create(coupon=elsewhere, code="USD1")

    for code, reason in (
        ("NOPE", "promotion_code_unknown"),
        ("gone", "promotion_code_expired"),
        ("OFF", "promotion_code_inactive"),
    ):
        answer = api.get("/api/payment/plans/", {"promotion_code": code})
        assert (answer.status_code, answer.json()["code"]) == (400, reason), answer.content
        assert answer.json()["detail"]
    # A valid code that is for no price shown leaves every price as it is.
    plans = api.get("/api/payment/plans/", {"promotion_code": "USD1"}).json()
    assert {p["amount_discount"] for plan in plans for p in plan["prices"]} == {0}

    refused = api.post("/api/payment/checkout/", {"pricing": monthly.pk, "promotion_code": "gone"})
    assert (refused.status_code, refused.json()["code"]) == (400, "promotion_code_expired")
