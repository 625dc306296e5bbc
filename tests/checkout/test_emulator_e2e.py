"""End to end against the Stripe emulator: our API, its hosted pages over HTTP, its webhooks to
a live server, and the local state and mail that follow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from django_payments_sync.adapter import DefaultPaymentsAdapter
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Order,
    OrderStatus,
    PaymentAttemptStatus,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from tests.checkout.conftest import CHECKOUT_URL, ORDERS_URL, SUBSCRIPTIONS_URL, subscription_url
from tests.emulated import emulated_site
from tests.testapp.models import Organization

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAY = 24 * 60 * 60


class TeamAdapter(DefaultPaymentsAdapter):
    """A host adapter that gives each new user a team (the example project's policy)."""

    def post_user_created(self, user: Any) -> None:
        super().post_user_created(user)
        with transaction.atomic():
            # The user row's lock makes the check-then-create safe when called concurrently.
            locked = type(user)._default_manager.select_for_update().get(pk=user.pk)
            if not locked.organizations.exists():
                Organization.objects.create(name=f"{user.email}'s team").members.add(locked)


@pytest.fixture
def shop(stripe_emulator: Any, live_server: Any) -> Iterator[Any]:
    """The library on a live server, talking to the emulator, which posts its webhooks back."""
    with emulated_site(
        stripe_emulator,
        live_server,
        CHECKOUT_SUCCESS_URL=f"{live_server.url}/done/",
        CHECKOUT_CANCEL_URL=f"{live_server.url}/canceled/",
    ):
        mail.outbox.clear()
        yield stripe_emulator


def checkout(api: APIClient, pricing: Any, quantity: int = 1) -> dict[str, Any]:
    response = api.post(CHECKOUT_URL, {"pricing": pricing.pk, "quantity": quantity})
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def press(session_url: str, button: str) -> requests.Response:
    """Press a button of the emulator's hosted checkout page, as the customer's browser does."""
    page = requests.get(session_url, timeout=10)
    assert page.status_code == 200
    assert f"/{button}'" in page.text
    return requests.post(f"{session_url}/{button}", timeout=10, allow_redirects=False)


def settle(emulator: Any) -> None:
    """Deliver every queued webhook and wait, then check that none failed at our end."""
    emulator.flush(timeout=20)
    emulator.pause_deliveries()
    failed = WebhookEvent.objects.exclude(
        status__in=[WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED]
    )
    assert list(failed.values_list("type", "status", "last_error")) == []


def test_subscription_checkout_paid_on_the_hosted_page(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    session = checkout(api, monthly, quantity=2)

    paid = press(session["url"], "pay")

    assert paid.status_code in (302, 303)
    assert paid.headers["Location"].endswith("/done/")
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert order.payment_attempts.get().status == PaymentAttemptStatus.SUCCEEDED
    subscription = Subscription.objects.get()
    assert order.subscription == subscription
    assert (subscription.status, subscription.quantity) == (SubscriptionStatus.ACTIVE, 2)
    assert subscription.customer.owner == user
    assert subscription.current_period_end is not None
    # Exactly one provider customer, the one created before the checkout.
    assert shop.client().v1.customers.list().data.__len__() == 1
    assert (
        ExternalCustomer.objects.get().external_id
        == shop.events("checkout.session.completed")[0]["data"]["object"]["customer"]
    )
    # The API shows it, and the mail with the invoice link went out.
    listed = api.get(SUBSCRIPTIONS_URL).json()
    assert [(s["id"], s["status"]) for s in listed] == [(subscription.pk, "active")]
    assert api.get(ORDERS_URL).json()[0]["status"] == "paid"
    receipts = [m for m in mail.outbox if "Payment received" in m.subject]
    assert len(receipts) == 1
    assert receipts[0].to == [user.email]
    assert "30.00 EUR" in receipts[0].subject
    invoice_url = shop.events("invoice.paid")[0]["data"]["object"]["hosted_invoice_url"]
    assert invoice_url in receipts[0].body
    assert requests.get(invoice_url, timeout=10).status_code == 200


def test_one_time_checkout_paid(shop: Any, api: APIClient, one_time: Any) -> None:
    session = checkout(api, one_time)

    press(session["url"], "pay")

    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    assert (order.status, order.subscription) == (OrderStatus.PAID, None)
    assert not Subscription.objects.exists()
    assert [m.subject for m in mail.outbox] == ["Payment received: 99.00 EUR"]


def test_a_declined_card_leaves_the_order_pending_and_payable(
    shop: Any, api: APIClient, monthly: Any
) -> None:
    session = checkout(api, monthly)

    declined = press(session["url"], "decline")

    assert declined.status_code == 402
    assert "declined" in declined.text
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    assert order.status == OrderStatus.PENDING
    assert order.payment_attempts.get().status == PaymentAttemptStatus.CREATED
    assert not Subscription.objects.exists()
    assert not [m for m in mail.outbox if "Payment received" in m.subject]

    # The customer tries another card on the same page.
    press(session["url"], "pay")
    settle(shop)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_cancel_on_the_hosted_page_then_expiry(shop: Any, api: APIClient, monthly: Any) -> None:
    first = checkout(api, monthly)
    back = press(first["url"], "cancel")
    assert back.status_code in (302, 303)
    assert back.headers["Location"].endswith("/canceled/")
    # The page the customer lands on tells the API.
    canceled = api.post(f"{ORDERS_URL}{first['order_id']}/cancel/")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["payment_attempts"][0]["status"] == "canceled"
    assert api.post(f"{ORDERS_URL}{first['order_id']}/cancel/").status_code == 409

    # A checkout left open expires at the provider: its event ends the order too.
    second = checkout(api, monthly)
    shop.advance_clock(DAY + 60)
    settle(shop)
    order = Order.objects.get(pk=second["order_id"])
    assert order.status == OrderStatus.CANCELED
    assert order.payment_attempts.get().status == PaymentAttemptStatus.EXPIRED
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("delivery", ["duplicates", "shuffled"])
def test_a_checkout_by_an_unknown_email_creates_exactly_one_user(
    shop: Any, monthly: Any, delivery: str
) -> None:
    """A checkout opened outside our API (a payment link) by someone without an account."""
    from django_payments_sync.interactor.provider import ensure_price_id

    config = {**settings.PAYMENTS_SYNC, "ADAPTER": f"{__name__}.TeamAdapter"}
    with override_settings(PAYMENTS_SYNC=config):
        shop.set_delivery_mode(delivery)
        session = shop.client().v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "line_items": [{"price": ensure_price_id(monthly), "quantity": 1}],
                "customer_email": "New.Buyer@Example.com",
                "success_url": "https://shop.example/done",
            }
        )
        press(session.url, "pay")
        settle(shop)

    users = get_user_model().objects.filter(email__iexact="new.buyer@example.com")
    assert users.count() == 1
    customer = Customer.objects.get(owner=users.get())
    subscription = Subscription.objects.get()
    assert subscription.customer == customer
    assert subscription.status == SubscriptionStatus.ACTIVE
    completed = shop.events("checkout.session.completed")[0]["data"]["object"]
    assert ExternalSubscription.objects.get().external_id == completed["subscription"]
    assert ExternalCustomer.objects.get(customer=customer).external_id == completed["customer"]
    # The host adapter's organization: one, with the new user as its only member.
    team = Organization.objects.get()
    assert list(team.members.all()) == [users.get()]
    welcomes = [m for m in mail.outbox if m.subject.startswith("Welcome")]
    assert [m.to for m in welcomes] == [["new.buyer@example.com"]]


def test_renewal_and_failed_renewal_through_the_clock(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    session = checkout(api, monthly)
    press(session["url"], "pay")
    settle(shop)
    subscription = Subscription.objects.get()
    first_end = subscription.current_period_end
    mail.outbox.clear()

    shop.advance_clock(32 * DAY)
    settle(shop)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_end > first_end
    assert [m.subject for m in mail.outbox] == ["Payment received: 15.00 EUR"]

    # The card starts declining: the next renewal fails.
    client = shop.client()
    remote_customer = ExternalCustomer.objects.get().external_id
    client.v1.customers.update(
        remote_customer,
        {"invoice_settings": {"default_payment_method": "pm_card_chargeDeclined"}},
    )
    remote_sub = ExternalSubscription.objects.get().external_id
    client.v1.subscriptions.update(remote_sub, {"default_payment_method": "pm_card_chargeDeclined"})
    mail.outbox.clear()
    shop.advance_clock(32 * DAY)
    settle(shop)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    failures = [m for m in mail.outbox if "failed" in m.subject]
    assert len(failures) == 1
    assert failures[0].to == [user.email]


def test_change_and_cancel_a_subscription_at_the_provider(
    shop: Any, api: APIClient, monthly: Any, yearly: Any
) -> None:
    session = checkout(api, monthly)
    press(session["url"], "pay")
    settle(shop)
    subscription = Subscription.objects.get()
    remote_id = ExternalSubscription.objects.get().external_id

    changed = api.patch(subscription_url(subscription.pk), {"pricing": yearly.pk, "quantity": 3})
    assert changed.status_code == 200, changed.content
    item = shop.client().v1.subscriptions.retrieve(remote_id)["items"]["data"][0]
    assert item["price"]["id"] == ExternalPricing.objects.get(pricing=yearly).external_id
    assert item["quantity"] == 3
    settle(shop)
    subscription.refresh_from_db()
    assert (subscription.pricing, subscription.quantity) == (yearly, 3)

    # The next change comes a second later: provider times have one-second resolution, and
    # two same-second updates of one subscription are ordered by event id (see the report).
    shop.advance_clock(1)
    at_end = api.delete(subscription_url(subscription.pk))
    assert at_end.json()["cancel_at_period_end"] is True
    settle(shop)
    assert shop.client().v1.subscriptions.retrieve(remote_id)["cancel_at_period_end"] is True
    assert [m for m in mail.outbox if "canceled" in m.subject]

    shop.advance_clock(1)
    now = api.delete(f"{subscription_url(subscription.pk)}?at_period_end=false")
    assert now.json()["status"] == "canceled"
    settle(shop)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    assert shop.client().v1.subscriptions.retrieve(remote_id)["status"] == "canceled"


def test_a_trial_ends_with_a_notice_then_the_first_payment(
    shop: Any, api: APIClient, user: Any, monthly: Any
) -> None:
    monthly.trial_period_days = 7
    monthly.save()
    session = checkout(api, monthly)
    press(session["url"], "pay")
    settle(shop)
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.TRIALING
    assert Order.objects.get().status == OrderStatus.PAID  # nothing to pay yet: no payment due
    mail.outbox.clear()

    shop.advance_clock(5 * DAY)
    settle(shop)
    assert [m.subject for m in mail.outbox] == ["Your trial ends soon"]
    assert mail.outbox[0].to == [user.email]

    shop.advance_clock(3 * DAY)
    settle(shop)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert "Payment received: 15.00 EUR" in [m.subject for m in mail.outbox]


@pytest.mark.parametrize(("fault", "status"), [("500", 503), ("429", 503)])
def test_provider_faults_answer_a_clean_error_not_a_traceback(
    shop: Any, api: APIClient, monthly: Any, fault: str, status: int
) -> None:
    checkout(api, monthly)  # the customer and the catalog reach the provider first
    shop.inject_fault("POST /v1/checkout/sessions*", fault, count=1)

    response = api.post(CHECKOUT_URL, {"pricing": monthly.pk})

    assert response.status_code == status
    body = response.json()
    assert body["retryable"] is True
    assert body["user_message"].startswith("The payment provider is temporarily unavailable")
    assert "Traceback" not in response.content.decode()
    failed = Order.objects.order_by("-pk").first()
    assert failed is not None
    assert failed.status == OrderStatus.FAILED
    assert failed.payment_attempts.get().status == PaymentAttemptStatus.FAILED
    # The next try goes through.
    assert api.post(CHECKOUT_URL, {"pricing": monthly.pk}).status_code == 201
