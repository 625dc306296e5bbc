"""Metered prices with the in-memory provider: a recurring price with a meter is pushed naming
its meter (the meter first), a second push writes nothing; a subscription to it sends no
quantity; the renewal bills the period's usage (unit amount x the meter's aggregate) and the
preview the usage so far; ``GET plans/`` and ``GET usage/`` show it; a backend without
``Capability.METERS`` refuses it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.backends.types import Capability
from django_payments_sync.exceptions import PolicyViolation, UnsupportedOperation
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.usage import send_usage
from django_payments_sync.models import (
    ExternalMeter,
    ExternalPricing,
    ExternalProduct,
    Meter,
    Order,
    Pricing,
    Subscription,
)
from django_payments_sync.sync.push import push_all
from tests.checkout.conftest import CHECKOUT_URL, LOCMEM_SETTINGS, deliver
from tests.factories import PricingFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

USAGE_OFF = {**LOCMEM_SETTINGS, "USAGE": {"ENQUEUE": False}}


class NoMetersBackend(LocmemBackend):
    """The in-memory provider without usage meters (as Paddle is)."""

    capabilities = frozenset(Capability) - {Capability.METERS}


@pytest.fixture(autouse=True)
def locmem() -> Iterator[LocmemBackend]:
    """The in-memory provider, with the usage outbox drained by the test (no task enqueued)."""
    with override_settings(PAYMENTS_SYNC=USAGE_OFF):
        backend = payments_backend()
        backend.reset()
        yield backend


@pytest.fixture
def api_calls(db: None) -> Meter:
    return Meter.objects.create(display_name="API calls", event_name="api_calls")


@pytest.fixture
def metered(api_calls: Meter) -> Pricing:
    """5 cents an API call, billed monthly."""
    product = ProductFactory(name="API", metadata={"features": ["API"]})
    return PricingFactory(product=product, amount=5, interval="month", meter=api_calls)


def test_only_a_recurring_price_is_metered(api_calls: Meter) -> None:
    one_time = PricingFactory.build(product=ProductFactory(), interval="", meter=api_calls)
    with pytest.raises(ValidationError) as refused:
        one_time.clean()
    assert "recurring" in str(refused.value.message_dict["meter"])
    assert not one_time.is_metered
    monthly = PricingFactory.build(product=ProductFactory(), interval="month", meter=api_calls)
    monthly.clean()
    assert (monthly.is_metered, monthly.usage_type) == (True, "metered")


def test_the_push_names_the_meter_and_a_second_push_writes_nothing(
    locmem: LocmemBackend, metered: Pricing, api_calls: Meter
) -> None:
    locmem.reset()  # forget the push of the save: the whole push from scratch
    for link in (ExternalPricing, ExternalProduct, ExternalMeter):
        link.objects.all().delete()
    report = push_all(customers=False)
    assert report.failures == []
    meter_id = ExternalMeter.objects.get(meter=api_calls).external_id
    price = locmem.prices[ExternalPricing.objects.get(pricing=metered).external_id]
    assert (price.meter_id, price.interval, price.amount) == (meter_id, "month", 5)
    operations = [c.operation for c in locmem.write_calls]
    assert operations.index("create_meter") < operations.index("create_price")

    locmem.calls.clear()
    push_all(customers=False)
    assert locmem.write_calls == []


def test_a_new_meter_replaces_its_metered_price(
    locmem: LocmemBackend, metered: Pricing, api_calls: Meter
) -> None:
    old = ExternalPricing.objects.get(pricing=metered).external_id
    api_calls.aggregation = "count"  # immutable at the provider: a new meter
    api_calls.save()
    push_all(customers=False)
    new = locmem.prices[ExternalPricing.objects.get(pricing=metered).external_id]
    assert new.id != old
    assert not locmem.prices[old].active
    assert new.meter_id == ExternalMeter.objects.get(meter=api_calls).external_id


def test_a_subscription_bills_its_usage_at_renewal(
    locmem: LocmemBackend, user: Any, metered: Pricing, api_calls: Meter
) -> None:
    subscription = payments.create_subscription(payments.get_customer(user), metered)
    assert locmem.calls_to("create_subscription")[0].args[0].metered is True
    deliver(locmem)
    first = next(iter(locmem.invoices.values()))
    assert first.amount_due == 0  # billed in arrears
    for quantity in (3, 4, 10):
        payments.record_usage(user, api_calls, quantity)
    send_usage()

    preview = payments.preview_change(subscription)
    assert [(line.quantity, line.amount) for line in preview.lines] == [(17, 85)]
    external = next(iter(locmem.subscriptions))
    renewal = locmem.renew(external)
    assert renewal.amount_due == 85

    with pytest.raises(PolicyViolation) as refused:
        payments.update_subscription(subscription, quantity=3)
    assert refused.value.code == "metered_quantity"


def payments_backend() -> LocmemBackend:
    from django_payments_sync.backends import get_backend

    backend = get_backend()
    assert isinstance(backend, LocmemBackend)
    return backend


def test_a_checkout_sends_no_quantity(
    api: APIClient, locmem: LocmemBackend, metered: Pricing
) -> None:
    response = api.post(CHECKOUT_URL, {"pricing": metered.pk})
    assert response.status_code == 201, response.content
    data = locmem.calls_to("create_checkout_session")[0].args[0]
    assert data.metered is True
    assert Order.objects.get().amount == 0  # nothing due up front
    locmem.complete_checkout(response.json()["id"])
    deliver(locmem)
    assert Subscription.objects.get().pricing == metered


def test_plans_and_usage_show_the_metered_price(
    api: APIClient, user: Any, metered: Pricing, api_calls: Meter
) -> None:
    monthly = PricingFactory(product=metered.product, amount=1500, interval="month")
    prices = api.get("/api/payment/plans/").json()[0]["prices"]
    by_id = {p["id"]: p for p in prices}
    assert by_id[metered.pk]["usage_type"] == "metered"
    assert by_id[metered.pk]["meter"] == {"event_name": "api_calls", "display_name": "API calls"}
    assert (by_id[monthly.pk]["usage_type"], by_id[monthly.pk]["meter"]) == ("licensed", None)

    payments.record_usage(user, api_calls, 7, timestamp=timezone.now() - dt.timedelta(hours=1))
    assert api.get("/api/payment/usage/").json()[0]["price"] is None  # not subscribed
    payments.create_subscription(payments.get_customer(user), metered)
    payments.record_usage(user, api_calls, 5)
    usage = api.get("/api/payment/usage/").json()[0]
    assert usage["value"] == 5  # since the period started
    assert usage["price"] == {
        "pricing": metered.pk,
        "unit_amount": 5,
        "currency": "eur",
        "estimate": 25,
    }


def test_a_backend_without_meters_refuses_a_metered_price(user: Any, api_calls: Meter) -> None:
    settings = {
        **LOCMEM_SETTINGS,
        "BACKEND": "tests.money.test_metered_prices.NoMetersBackend",
    }
    with override_settings(PAYMENTS_SYNC=settings):
        product = ProductFactory(name="API")
        pricing = PricingFactory(product=product, amount=5, interval="month", meter=api_calls)
        report = push_all(customers=False)
        [failed] = report.failures
        assert (failed.object_type, failed.local_id) == ("price", str(pricing.pk))
        assert isinstance(failed.error, UnsupportedOperation)
        assert "metered prices" in str(failed.error)
        pricing.refresh_from_db()
        assert pricing.sync_status == "failed"
        assert not ExternalPricing.objects.filter(pricing=pricing).exists()
        with pytest.raises(UnsupportedOperation):
            payments.create_subscription(payments.get_customer(user), pricing)
        backend = payments_backend()
        assert backend.calls_to("create_price") == []
        assert backend.calls_to("create_meter") == []


def test_a_meter_saved_is_pushed_and_its_prices_follow_a_replacement(
    locmem: LocmemBackend, metered: Pricing, api_calls: Meter
) -> None:
    """With AUTO_SYNC a meter's save pushes it after commit, like a price's; a new event name
    replaces it at the provider (the old one deactivated), and its metered price is replaced to
    name the new meter."""
    created = Meter.objects.create(display_name="Seats", event_name="seats", aggregation="last")
    assert ExternalMeter.objects.filter(meter=created).exists()

    before_meter = ExternalMeter.objects.get(meter=api_calls).external_id
    before_price = ExternalPricing.objects.get(pricing=metered).external_id
    api_calls.event_name = "api_requests"
    api_calls.save()

    after_meter = ExternalMeter.objects.get(meter=api_calls).external_id
    after_price = ExternalPricing.objects.get(pricing=metered).external_id
    assert after_meter != before_meter
    assert after_price != before_price
    assert locmem.prices[after_price].meter_id == after_meter
    assert not locmem.prices[before_price].active
    # Nothing changed: nothing written.
    writes = len(locmem.calls)
    api_calls.save()
    assert len(locmem.calls) == writes
