"""Coupons and promotion codes: pushed diff-based and idempotently, archived on delete; a code
at checkout and on a subscription, refused with its reason; with the in-memory provider."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_payments_sync.interactor import payments
from django_payments_sync.models import (
    Coupon,
    ExternalCoupon,
    ExternalPromotionCode,
    ExternalSubscription,
    Order,
    PromotionCode,
    SubscriptionDiscount,
)
from django_payments_sync.sync.coupons import push_discounts
from django_payments_sync.testing.paddle_emulator import DEFAULT_API_KEY
from tests.checkout.conftest import CHECKOUT_URL, LOCMEM_SETTINGS, deliver
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def summer(db: None) -> PromotionCode:
    coupon = Coupon.objects.create(name="Summer", percent_off=Decimal("25"), duration="once")
    return PromotionCode.objects.create(coupon=coupon, code="SUMMER25")


def writes(locmem: Any) -> list[str]:
    return [c.operation for c in locmem.write_calls]


def test_a_push_creates_then_costs_nothing(locmem: Any, summer: PromotionCode) -> None:
    locmem.calls.clear()
    results = push_discounts()
    assert [r.action for r in results] == ["unchanged", "unchanged"]  # autosync pushed them
    assert writes(locmem) == []
    coupon_id = ExternalCoupon.objects.get().external_id
    assert locmem.coupon_terms[coupon_id].percent_off == "25"
    assert (
        locmem.promotion_codes[ExternalPromotionCode.objects.get().external_id].code == "SUMMER25"
    )


def test_a_new_name_updates_new_terms_replace(locmem: Any, summer: PromotionCode) -> None:
    coupon = summer.coupon
    first = ExternalCoupon.objects.get().external_id
    locmem.calls.clear()
    coupon.name = "Summer sale"
    coupon.save()
    assert writes(locmem) == ["update_coupon"]
    assert ExternalCoupon.objects.get().external_id == first

    locmem.calls.clear()
    coupon.percent_off = Decimal("30")
    coupon.save()
    second = ExternalCoupon.objects.get().external_id
    assert second != first
    assert first not in locmem.coupons  # the old coupon is deleted at the provider
    assert writes(locmem) == [
        "create_coupon",
        "delete_coupon",
        "update_promotion_code",
        "create_promotion_code",
    ]
    code = locmem.promotion_codes[ExternalPromotionCode.objects.get().external_id]
    assert (code.coupon_id, code.active) == (second, True)
    locmem.calls.clear()
    assert {r.action for r in push_discounts()} == {"unchanged"}
    assert writes(locmem) == []


def test_deactivating_and_deleting_archive_at_the_provider(
    locmem: Any, summer: PromotionCode
) -> None:
    code_id = ExternalPromotionCode.objects.get().external_id
    summer.active = False
    summer.save()
    assert locmem.promotion_codes[code_id].active is False
    coupon = summer.coupon
    first = ExternalCoupon.objects.get().external_id
    coupon.active = False
    coupon.save()
    assert first not in locmem.coupons
    assert not ExternalCoupon.objects.exists()
    coupon.active = True
    coupon.save()  # a new provider coupon, not the deleted one again
    coupon_id = ExternalCoupon.objects.get().external_id
    assert coupon_id != first
    assert coupon_id in locmem.coupons
    coupon.delete()
    assert coupon_id not in locmem.coupons
    assert not ExternalCoupon.objects.exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"expires_at": timezone.now() - dt.timedelta(seconds=1)}, "promotion_code_expired"),
        ({"active": False}, "promotion_code_inactive"),
        ({"max_redemptions": 1}, "promotion_code_used_up"),
    ],
)
def test_a_code_is_refused_with_its_reason(
    api: Any, locmem: Any, one_time: Any, summer: PromotionCode, change: dict[str, Any], code: str
) -> None:
    if code == "promotion_code_used_up":
        # Used once already: a paid order with the code.
        session = api.post(CHECKOUT_URL, {"pricing": one_time.pk, "promotion_code": "SUMMER25"})
        locmem.complete_checkout(session.json()["id"])
        deliver(locmem)
    PromotionCode.objects.filter(pk=summer.pk).update(**change)
    before = Order.objects.count()
    answer = api.post(CHECKOUT_URL, {"pricing": one_time.pk, "promotion_code": "summer25"})
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == code
    assert "SUMMER25" in answer.json()["detail"]
    assert Order.objects.count() == before


def test_a_code_not_for_this_price(api: Any, locmem: Any, one_time: Any, monthly: Any) -> None:
    coupon = Coupon.objects.create(name="Team only", amount_off=500, currency="eur")
    coupon.products.add(monthly.product)
    PromotionCode.objects.create(coupon=coupon, code="TEAM5")
    answer = api.post(CHECKOUT_URL, {"pricing": one_time.pk, "promotion_code": "TEAM5"})
    assert (answer.status_code, answer.json()["code"]) == (400, "promotion_code_not_for_price")
    unknown = api.post(CHECKOUT_URL, {"pricing": one_time.pk, "promotion_code": "NOPE"})
    assert unknown.json()["code"] == "promotion_code_unknown"


def test_a_code_at_checkout_discounts_the_order(
    api: Any, locmem: Any, one_time: Any, summer: PromotionCode
) -> None:
    answer = api.post(CHECKOUT_URL, {"pricing": one_time.pk, "promotion_code": "summer25"})
    assert answer.status_code == 201, answer.content
    data = locmem.calls_to("create_checkout_session")[-1].args[0]
    assert data.promotion_code_id == ExternalPromotionCode.objects.get().external_id
    assert data.allow_promotion_codes is False
    order = api.get("/api/payment/orders/").json()[0]
    assert (order["amount"], order["amount_discount"], order["promotion_code"]) == (
        7425,
        2475,
        "SUMMER25",
    )


def test_allow_promotion_codes_lets_the_provider_ask(api: Any, one_time: Any) -> None:
    from django_payments_sync.backends import get_backend
    from django_payments_sync.models import ExternalCustomer, ExternalPricing, ExternalProduct

    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "ALLOW_PROMOTION_CODES": True}):
        backend = get_backend()  # a new in-memory provider: the catalog is pushed to it again
        for model in (ExternalCustomer, ExternalPricing, ExternalProduct):
            model.objects.all().delete()
        assert api.post(CHECKOUT_URL, {"pricing": one_time.pk}).status_code == 201
        assert backend.calls_to("create_checkout_session")[-1].args[0].allow_promotion_codes


def test_a_code_on_a_subscription(
    api: Any, other_api: Any, user: Any, locmem: Any, monthly: Any, summer: PromotionCode
) -> None:
    subscription = payments.create_subscription(payments.get_customer(user), monthly)
    deliver(locmem)
    url = f"/api/payment/subscriptions/{subscription.pk}/discount/"
    assert other_api.post(url, {"promotion_code": "SUMMER25"}).status_code == 404
    assert api.post(url, {"promotion_code": "WRONG"}).json()["code"] == "promotion_code_unknown"

    answer = api.post(url, {"promotion_code": "summer25"})

    assert answer.status_code == 200, answer.content
    assert answer.json()["promotion_code"] == "SUMMER25"
    external = ExternalSubscription.objects.get(subscription=subscription).external_id
    assert (
        locmem.subscription_discounts[external] == ExternalPromotionCode.objects.get().external_id
    )
    assert SubscriptionDiscount.objects.get().promotion_code == summer
    assert api.get(f"/api/payment/subscriptions/{subscription.pk}/").json()["promotion_code"] == (
        "SUMMER25"
    )


def test_an_ended_subscription_takes_no_code(api: Any, user: Any, summer: PromotionCode) -> None:
    subscription = SubscriptionFactory(customer=payments.get_customer(user), status="canceled")
    answer = api.post(
        f"/api/payment/subscriptions/{subscription.pk}/discount/", {"promotion_code": "SUMMER25"}
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "subscription_not_live")


def test_coupon_terms_are_checked() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Coupon(name="Both", percent_off=Decimal("5"), amount_off=100, currency="eur").clean()
    with pytest.raises(ValidationError):
        Coupon(name="No currency", amount_off=100).clean()
    with pytest.raises(ValidationError):
        Coupon(name="Months", percent_off=Decimal("5"), duration="repeating").clean()
    assert Coupon(name="x", percent_off=Decimal("12.5")).amount_of_discount(999) == 125
    assert Coupon(name="x", amount_off=5000, currency="eur").amount_of_discount(999) == 999


def test_payments_sync_push_pushes_meters_coupons_and_codes(locmem: Any) -> None:
    """`payments_sync push` (push_all) pushes what autosync missed: rows changed without a save."""
    from django.core.management import call_command

    from django_payments_sync.models import ExternalMeter, Meter

    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "AUTO_SYNC": False}):
        coupon = Coupon.objects.create(
            name="Spring", amount_off=500, currency="eur", duration="once"
        )
        PromotionCode.objects.create(coupon=coupon, code="SPRING5")
        Meter.objects.create(display_name="API calls", event_name="api_calls")
        assert not ExternalCoupon.objects.exists()
        call_command("payments_sync", "push", "--dry-run")
        assert not ExternalCoupon.objects.exists()
        call_command("payments_sync", "push")
    assert ExternalCoupon.objects.filter(coupon=coupon).exists()
    assert ExternalPromotionCode.objects.filter(promotion_code__code="SPRING5").exists()
    assert ExternalMeter.objects.count() == 1


def test_a_backend_without_discounts_keeps_coupons_local(paddle_emulator: Any) -> None:
    """Paddle's backend has no discounts: a coupon and its code saved with AUTO_SYNC are not
    pushed (no UnsupportedOperation after the commit), and `payments_sync push` skips them."""
    paddle = {
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {"api_key": DEFAULT_API_KEY, "api_base": paddle_emulator.url},
        "AUTO_SYNC": True,
    }
    with override_settings(PAYMENTS_SYNC=paddle):
        coupon = Coupon.objects.create(name="Welcome", percent_off=Decimal("20"), duration="once")
        code = PromotionCode.objects.create(coupon=coupon, code="WELCOME20")
        coupon.name = "Welcome!"
        coupon.save()
        call_command("payments_sync", "push")
    assert not ExternalCoupon.objects.exists()
    assert not ExternalPromotionCode.objects.exists()
    code.refresh_from_db()
    assert code.code == "WELCOME20"
