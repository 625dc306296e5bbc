"""Metered prices end to end against the Stripe emulator, over HTTP with the stripe SDK: the
push creates the meter and a price with ``recurring[usage_type]=metered`` and
``recurring[meter]`` (a second push makes no write call); a customer subscribes on the hosted
checkout page (the line has no quantity); usage recorded and sent is what Stripe's upcoming
invoice and, after the period, its renewal invoice bill: unit amount x the meter's sum."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.backends import get_backend
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.usage import send_usage
from django_payments_sync.models import (
    ExternalCustomer,
    ExternalMeter,
    ExternalPricing,
    Meter,
    Pricing,
    Subscription,
)
from django_payments_sync.sync.push import push_all
from tests.backends.helpers import RecordingHTTPClient
from tests.checkout.test_emulator_e2e import checkout, press, settle
from tests.emulated import emulated_site
from tests.factories import PricingFactory, ProductFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAY = 86_400


@pytest.fixture
def shop(stripe_emulator: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    with emulated_site(
        stripe_emulator,
        live_server,
        CHECKOUT_SUCCESS_URL=f"{live_server.url}/done/",
        CHECKOUT_CANCEL_URL=f"{live_server.url}/canceled/",
        USAGE={"ENQUEUE": False},
    ):
        yield stripe_emulator


@pytest.fixture
def api_calls(db: None) -> Meter:
    return Meter.objects.create(display_name="API calls", event_name="api_calls")


@pytest.fixture
def metered(shop: Any, api_calls: Meter) -> Pricing:
    """5 cents an API call, billed monthly (pushed when saved, its meter first)."""
    product = ProductFactory(name="API", metadata={"features": ["API"]})
    return PricingFactory(product=product, amount=5, interval="month", meter=api_calls)


def test_the_push_creates_a_metered_price_naming_its_meter(
    shop: Any, metered: Pricing, api_calls: Meter, settings: Any
) -> None:
    client = shop.client(max_network_retries=0)
    price = client.v1.prices.retrieve(ExternalPricing.objects.get(pricing=metered).external_id)
    meter = client.v1.billing.meters.retrieve(
        ExternalMeter.objects.get(meter=api_calls).external_id
    )
    assert (price.unit_amount, price.recurring.interval) == (5, "month")
    assert (price.recurring.usage_type, price.recurring.meter) == ("metered", meter.id)
    assert (meter.event_name, meter.default_aggregation.formula) == ("api_calls", "sum")

    recording = RecordingHTTPClient()
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "OPTIONS": {**settings.PAYMENTS_SYNC["OPTIONS"], "http_client": recording},
    }
    report = push_all(customers=False)
    assert report.failures == []
    assert recording.writes == []  # unchanged: no write call


def test_usage_of_a_metered_subscription_is_what_stripe_bills(
    shop: Any, api: APIClient, user: Any, metered: Pricing, api_calls: Meter
) -> None:
    press(checkout(api, metered)["url"], "pay")
    settle(shop)
    subscription = Subscription.objects.get()
    assert (subscription.pricing, subscription.status) == (metered, "active")
    client = shop.client(max_network_retries=0)
    customer = ExternalCustomer.objects.get().external_id
    [sub] = client.v1.subscriptions.list({"customer": customer}).data
    assert "quantity" not in sub["items"].data[0].to_dict()

    for quantity in (3, 4, 10):
        payments.record_usage(user, api_calls, quantity)
    assert send_usage().counts == {"sent": 3, "failed": 0, "pending": 0}
    # The upcoming invoice bills the usage so far...
    preview = get_backend().preview_subscription_change(sub.id)
    assert [(line.quantity, line.amount) for line in preview.lines] == [(17, 85)]
    assert preview.amount_due == 85
    assert api.get("/api/payment/usage/").json()[0]["price"]["estimate"] == 85

    # ...and the period's end invoices it.
    shop.advance_clock(31 * DAY)
    settle(shop)
    renewal = client.v1.invoices.retrieve(
        str(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    )
    assert (renewal.billing_reason, renewal.amount_due, renewal.status) == (
        "subscription_cycle",
        85,
        "paid",
    )
    assert renewal.lines.data[0].quantity == 17


def test_a_direct_subscription_sends_no_quantity(
    shop: Any, user: Any, metered: Pricing, api_calls: Meter
) -> None:
    customer = payments.get_customer(user)
    client = shop.client(max_network_retries=0)
    external = ExternalCustomer.objects.get(customer=customer).external_id
    # Nothing is due up front: no payment method needed to subscribe.
    subscription = payments.create_subscription(customer, metered)
    assert subscription.status == "active"
    payments.record_usage(user, api_calls, 40)
    send_usage()
    [sub] = client.v1.subscriptions.list({"customer": external}).data
    preview = client.v1.invoices.create_preview({"customer": external, "subscription": sub.id})
    assert preview.amount_due == 200
