"""Payments that need the customer and failed-payment recovery, end to end against the Stripe
emulator: the authentication-required test card with its hosted page, retries on the emulator's
clock, the mails per attempt, the final notice, payment_recovered, and access all along."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.core import mail
from rest_framework.test import APIClient

from django_payments_sync import signals
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.access import has_active_subscription
from django_payments_sync.interactor.provider import ensure_customer_id
from django_payments_sync.models import ExternalSubscription, Invoice, Subscription
from tests.checkout.conftest import SUBSCRIPTIONS_URL, subscription_url
from tests.checkout.test_emulator_e2e import DAY, checkout, press, settle
from tests.lifecycle.helpers import Received

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SCA_CARD = "pm_card_authenticationRequired"


@pytest.fixture
def recovered() -> Iterator[Received]:
    received = Received(signals.payment_recovered)
    yield received
    received.disconnect()


def use_card(shop: Any, user: Any, card: str) -> None:
    """The customer's default payment method at the provider (and on its subscription)."""
    client = shop.client()
    customer_id = ensure_customer_id(payments.get_customer(user))
    client.v1.customers.update(customer_id, {"invoice_settings": {"default_payment_method": card}})
    live = ExternalSubscription.objects.exclude(
        subscription__status__in=["canceled", "incomplete_expired"]
    )
    for link in live:
        client.v1.subscriptions.update(link.external_id, {"default_payment_method": card})


def access_at_the_providers_time(shop: Any, user: Any) -> bool:
    """``has_active_subscription`` at the emulator's clock (moved on by the test)."""
    at = dt.datetime.fromtimestamp(shop.now(), tz=dt.UTC)
    return has_active_subscription(payments.get_customer(user).owner, at)


def subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


def test_a_first_payment_that_needs_authentication_is_finished_on_the_hosted_page(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    use_card(shop, user, SCA_CARD)
    created = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["is_entitled"]) == ("incomplete", False)
    page_url = body["hosted_invoice_url"]
    assert page_url.startswith(shop.url)
    settle(shop)
    sub = Subscription.objects.get()
    shown = api.get(subscription_url(sub.pk)).json()
    assert (shown["status"], shown["action_required"], shown["hosted_invoice_url"]) == (
        "incomplete",
        True,
        page_url,
    )
    assert subjects() == ["Action required: confirm your payment of 15.00 EUR"]
    assert page_url in mail.outbox[0].body
    assert not payments.has_active_subscription(user)

    page = requests.get(page_url, timeout=10)
    assert "Complete authentication" in page.text
    done = requests.post(f"{page_url}/authenticate", timeout=10)
    assert done.status_code == 200, done.text
    settle(shop)
    sub.refresh_from_db()
    assert sub.status == "active"
    assert payments.has_active_subscription(user)
    shown = api.get(subscription_url(sub.pk)).json()
    assert (shown["action_required"], shown["hosted_invoice_url"]) == (False, None)
    assert Invoice.objects.get().status == "paid"
    assert "Payment received: 15.00 EUR" in subjects()


def test_a_failed_authentication_leaves_it_incomplete_until_it_expires(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    use_card(shop, user, SCA_CARD)
    page_url = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk}).json()["hosted_invoice_url"]
    settle(shop)
    failed = requests.post(f"{page_url}/fail", timeout=10)
    assert failed.status_code == 402
    # Nothing left to authenticate: the page offers another card only.
    assert requests.post(f"{page_url}/authenticate", timeout=10).status_code == 409
    assert "Pay with another card" in requests.get(page_url, timeout=10).text
    settle(shop)
    sub = Subscription.objects.get()
    assert sub.status == "incomplete"
    assert Invoice.objects.get().attempt_count == 2

    shop.advance_clock(DAY)
    settle(shop)
    sub.refresh_from_db()
    assert sub.status == "incomplete_expired"
    assert not payments.has_active_subscription(user)
    # Its place is free again.
    use_card(shop, user, "pm_card_visa")
    assert api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk}).status_code == 201


def test_failed_renewals_are_retried_then_recovered(
    shop: Any, api: APIClient, user: Any, monthly: Any, recovered: Received
) -> None:
    press(checkout(api, monthly)["url"], "pay")
    settle(shop)
    sub = Subscription.objects.get()
    use_card(shop, user, "pm_card_chargeDeclined")
    mail.outbox.clear()

    shop.advance_clock(32 * DAY)  # the renewal fails
    settle(shop)
    sub.refresh_from_db()
    assert sub.status == "past_due"
    assert sub.past_due_since is not None
    assert access_at_the_providers_time(shop, user)  # within the 7 days' grace
    renewal = Invoice.objects.get(billing_reason="subscription_cycle")
    assert (renewal.status, renewal.attempt_count) == ("open", 1)
    assert renewal.next_payment_attempt is not None
    assert subjects() == ["Your payment of 15.00 EUR failed"]
    assert "We will try again on" in mail.outbox[0].body

    shop.advance_clock(3 * DAY + 60)  # the first retry fails too
    settle(shop)
    renewal.refresh_from_db()
    assert renewal.attempt_count == 2
    assert len(mail.outbox) == 2
    shop.advance_clock(5 * DAY)  # past the grace period, before the next retry
    assert not access_at_the_providers_time(shop, user)
    shown = api.get(subscription_url(sub.pk)).json()
    assert shown["status"] == "past_due"
    assert shown["hosted_invoice_url"] == renewal.hosted_invoice_url

    use_card(shop, user, "pm_card_visa")  # the customer updates the card
    mail.outbox.clear()
    shop.advance_clock(3 * DAY)  # the next retry succeeds
    settle(shop)
    sub.refresh_from_db()
    assert (sub.status, sub.past_due_since) == ("active", None)
    assert access_at_the_providers_time(shop, user)
    assert [(c["invoice"].pk, c["attempts"]) for c in recovered.calls] == [(renewal.pk, 3)]
    assert subjects() == ["Payment received: 15.00 EUR"]


@pytest.mark.parametrize("final", ["cancel", "unpaid"])
def test_the_last_failed_retry_is_the_final_notice(
    shop: Any, api: APIClient, user: Any, monthly: Any, final: str, recovered: Received
) -> None:
    shop.configure_dunning(retry_days=[1, 2, 3], final=final)
    press(checkout(api, monthly)["url"], "pay")
    settle(shop)
    use_card(shop, user, "pm_card_chargeDeclined")
    mail.outbox.clear()
    shop.advance_clock(31 * DAY + 7 * DAY)
    settle(shop)
    failures = [s for s in subjects() if "failed" in s]
    assert failures == ["Your payment of 15.00 EUR failed"] * 3 + [
        "Final notice: your payment of 15.00 EUR failed"
    ]
    assert Invoice.objects.get(billing_reason="subscription_cycle").attempt_count == 4
    sub = Subscription.objects.get()
    assert sub.status == ("canceled" if final == "cancel" else "unpaid")
    assert not payments.has_active_subscription(user)
    assert recovered.calls == []


def test_a_renewal_that_needs_authentication(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    press(checkout(api, monthly)["url"], "pay")
    settle(shop)
    use_card(shop, user, SCA_CARD)
    mail.outbox.clear()
    shop.advance_clock(32 * DAY)
    settle(shop)
    sub = Subscription.objects.get()
    assert sub.status == "past_due"
    assert subjects() == ["Action required: confirm your payment of 15.00 EUR"]
    url = api.get(subscription_url(sub.pk)).json()["hosted_invoice_url"]
    assert requests.post(f"{url}/authenticate", timeout=10).status_code == 200
    settle(shop)
    sub.refresh_from_db()
    assert sub.status == "active"
