"""Secrets (the API key, the webhook signing secret) never reach logs, error messages, API
answers, admin pages or the event log: a representative run, everything captured and grepped."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.views.debug import SafeExceptionReporterFilter
from rest_framework.test import APIClient

from django_payments_sync.models import Customer, Subscription, WebhookEvent
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from django_payments_sync.testing.webhooks import sign_stripe_payload, stripe_event
from tests.billing.conftest import BILLING_URL, FRENCH_ADDRESS
from tests.checkout.conftest import CHECKOUT_URL, SUBSCRIPTIONS_URL, subscription_url
from tests.factories import PricingFactory, ProductFactory, UserFactory
from tests.reliability.conftest import WEBHOOK_URL, deliver, payments_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

API_KEY = "sk_test_DoNotLeakThisKey0123456789abcdef"


@pytest.fixture
def shop(stripe_emulator: StripeEmulator, vies_responder: Any) -> Iterator[StripeEmulator]:
    """The library on the emulator with a key and a webhook secret of its own, VIES local."""
    endpoint = stripe_emulator.add_webhook_endpoint("http://127.0.0.1:9/unused/")
    stripe_emulator.pause_deliveries()
    config = {
        "OPTIONS": {
            "api_key": API_KEY,
            "api_base": stripe_emulator.url,
            "webhook_secret": endpoint["secret"],
            "timeout": 0.5,
            "max_network_retries": 1,
        },
        "SELLER_COUNTRY": "DE",
        "VIES": {"ENABLED": True, "ADDRESS": vies_responder.url, "TIMEOUT": 1.0},
    }
    with override_settings(PAYMENTS_SYNC=config):
        yield stripe_emulator


def secrets_of(shop: StripeEmulator) -> list[str]:
    from django.conf import settings

    config: Any = settings.PAYMENTS_SYNC
    secret = str(config["OPTIONS"]["webhook_secret"])
    # The whole values, and their distinctive halves (a truncated copy leaks as much).
    return [API_KEY, API_KEY[8:], secret, secret[6:]]


def test_a_full_run_never_shows_a_secret(
    shop: StripeEmulator, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level, the SDK's own included
    from django.conf import settings

    config: Any = settings.PAYMENTS_SYNC
    secret = str(config["OPTIONS"]["webhook_secret"])
    seen: list[str | bytes] = []

    # The catalog and the customers reach the provider; a push meets faults on the way.
    product = ProductFactory(name="Pro")
    pricing = PricingFactory(product=product, amount=1500, interval="month")
    shopper = UserFactory(username="shopper", email="shopper@example.com")
    shop.inject_fault("POST /v1/products*", "500", count=1)
    seen += payments_sync("push")[1:]
    seen += payments_sync("push")[1:]
    seen += payments_sync("diff")[1:]

    api = APIClient()
    api.force_login(shopper)
    seen.append(api.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": "FR40303265045"}).content)
    shop.inject_fault("POST /v1/checkout/sessions", "429", count=2)
    seen.append(api.post(CHECKOUT_URL, {"pricing": pricing.pk}).content)
    shop.inject_fault("POST /v1/checkout/sessions", "delay", count=1, delay=1.0)
    seen.append(api.post(CHECKOUT_URL, {"pricing": pricing.pk}).content)
    session = api.post(CHECKOUT_URL, {"pricing": pricing.pk}).json()
    shop.pay_checkout_session(session["id"])

    client = Client()
    seen += [response.content for response in deliver(shop, secret)]
    subscription = Subscription.objects.get()
    shop.inject_fault("POST /v1/subscriptions/*", "500", count=1)
    seen.append(api.patch(subscription_url(subscription.pk), {"quantity": 2}).content)
    seen.append(api.get(SUBSCRIPTIONS_URL).content)
    # Refused webhooks: their errors must not echo what was expected.
    forged = stripe_event("customer.updated", {"id": "cus_x", "object": "customer"})
    for key in ("whsec_wrong", secret[:-1]):
        body, headers = sign_stripe_payload(forged, key)
        seen.append(
            client.post(
                WEBHOOK_URL,
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            ).content
        )
    seen += payments_sync("events", "process")[1:]
    seen += payments_sync("vat", "recheck", "--force")[1:]

    # The admin, as a superuser sees it.
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    customer = Customer.objects.get(owner=shopper)
    event = WebhookEvent.objects.order_by("pk").first()
    assert event is not None
    for page in (
        "/admin/django_payments_sync/customer/",
        f"/admin/django_payments_sync/customer/{customer.pk}/change/",
        "/admin/django_payments_sync/webhookevent/",
        f"/admin/django_payments_sync/webhookevent/{event.pk}/change/",
        f"/admin/django_payments_sync/subscription/{subscription.pk}/change/",
        "/admin/django_payments_sync/order/",
    ):
        response = admin.get(page)
        assert response.status_code == 200, page
        seen.append(response.content)

    # The event log, errors included.
    seen += [repr(row) for row in WebhookEvent.objects.values()]
    out, err = capfd.readouterr()
    captured = [
        *(m.decode() if isinstance(m, bytes) else str(m) for m in seen),
        caplog.text,
        *(str(r.exc_info) for r in caplog.records if r.exc_info),
        out,
        err,
    ]
    assert len(caplog.records) > 20  # the run did log, at every level
    for text in captured:
        for value in secrets_of(shop):
            assert value not in text, (value[:12], text[:300])


def test_error_reports_mask_the_provider_settings(shop: StripeEmulator) -> None:
    """What Django's error mails and debug pages show of the settings hides both secrets."""
    safe = SafeExceptionReporterFilter().get_safe_settings()["PAYMENTS_SYNC"]["OPTIONS"]
    for value in (safe["api_key"], safe["webhook_secret"]):
        assert set(value) == {"*"}
