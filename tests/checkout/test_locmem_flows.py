"""Checkout and subscriptions through the API with the in-memory backend: provider-neutral."""

from __future__ import annotations

from typing import Any

import pytest

from django_payments_sync.exceptions import CardError, TransientProviderError
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalSubscription,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    Subscription,
    SubscriptionStatus,
)
from tests.checkout.conftest import CHECKOUT_URL, SUBSCRIPTIONS_URL, deliver, subscription_url
from tests.factories import BillingInformationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_checkout_for_a_recurring_price_opens_a_subscription_session(
    api: Any, user: Any, locmem: Any, monthly: Any
) -> None:
    response = api.post(CHECKOUT_URL, {"pricing": monthly.pk, "quantity": 3})

    assert response.status_code == 201, response.content
    body = response.json()
    session = locmem.checkout_sessions[body["id"]]
    assert body["url"] == session.url
    assert session.mode == "subscription"
    order = Order.objects.get(pk=body["order_id"])
    assert (order.customer.owner, order.pricing, order.quantity) == (user, monthly, 3)
    assert (order.amount, order.currency, order.status) == (4500, "eur", OrderStatus.PENDING)
    attempt = order.payment_attempts.get()
    assert (attempt.provider, attempt.external_id) == ("locmem", session.id)
    assert attempt.status == PaymentAttemptStatus.CREATED
    assert attempt.checkout_url == session.url
    # The customer reached the provider before the checkout session was opened.
    operations = [call.operation for call in locmem.write_calls]
    assert operations.index("create_customer") < operations.index("create_checkout_session")
    assert session.customer_id == ExternalCustomer.objects.get(customer=order.customer).external_id
    assert session.metadata["payments_sync_order"] == str(order.pk)


def test_checkout_pushes_the_billing_data_and_tax_status_first(
    api: Any, user: Any, locmem: Any, monthly: Any
) -> None:
    customer = Customer.objects.create(owner=user, email=user.email)
    BillingInformationFactory(
        customer=customer, name="Alice Ltd", country="US", is_from_eu=False, tax_exemption="exempt"
    )

    response = api.post(CHECKOUT_URL, {"pricing": monthly.pk})

    assert response.status_code == 201, response.content
    remote = locmem.customers[ExternalCustomer.objects.get(customer=customer).external_id]
    assert remote.tax_exemption == "exempt"
    assert remote.address is not None
    assert remote.address.country == "US"


def test_checkout_for_a_one_time_price_opens_a_payment_session(
    api: Any, locmem: Any, one_time: Any
) -> None:
    response = api.post(CHECKOUT_URL, {"pricing": one_time.pk})

    assert response.status_code == 201, response.content
    assert locmem.checkout_sessions[response.json()["id"]].mode == "payment"


def test_checkout_return_urls_default_to_the_site_and_refuse_other_hosts(
    api: Any, locmem: Any, monthly: Any
) -> None:
    ok = api.post(
        CHECKOUT_URL,
        {"pricing": monthly.pk, "success_url": "/thanks/", "cancel_url": "http://localhost/back"},
    )
    assert ok.status_code == 201, ok.content
    data = locmem.calls_to("create_checkout_session")[-1].args[0]
    assert (data.success_url, data.cancel_url) == (
        "http://testserver/thanks/",
        "http://localhost/back",
    )

    for bad in ("https://evil.example/phish", "//evil.example/x", "javascript:alert(1)"):
        refused = api.post(CHECKOUT_URL, {"pricing": monthly.pk, "success_url": bad})
        assert refused.status_code == 400, bad
        assert refused.json()["code"] == "unsafe_redirect"
    assert Order.objects.count() == 1


def test_checkout_refuses_a_quantity_out_of_bounds_and_inactive_prices(
    api: Any, locmem: Any, monthly: Any
) -> None:
    too_many = api.post(CHECKOUT_URL, {"pricing": monthly.pk, "quantity": 11})
    assert too_many.status_code == 400
    assert too_many.json() == {
        "detail": "The quantity must be at most 10 for this price.",
        "code": "quantity_out_of_range",
    }
    monthly.active = False
    monthly.save()
    inactive = api.post(CHECKOUT_URL, {"pricing": monthly.pk})
    assert inactive.status_code == 400
    assert "pricing" in inactive.json()
    assert Order.objects.count() == 0
    assert locmem.calls_to("create_checkout_session") == []


def test_checkout_of_a_second_subscription_is_refused_with_the_reason(
    api: Any, user: Any, locmem: Any, monthly: Any, one_time: Any
) -> None:
    customer = Customer.objects.create(owner=user, email=user.email)
    SubscriptionFactory(customer=customer, pricing=monthly, status=SubscriptionStatus.ACTIVE)

    response = api.post(CHECKOUT_URL, {"pricing": monthly.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "subscription_limit"
    assert "at most 1 subscription" in response.json()["detail"]
    # One-time purchases are not subscriptions: still allowed.
    assert api.post(CHECKOUT_URL, {"pricing": one_time.pk}).status_code == 201


def test_a_provider_failure_answers_a_clean_error_and_marks_the_attempt_failed(
    api: Any, locmem: Any, monthly: Any
) -> None:
    locmem.fail_next("create_checkout_session", TransientProviderError("timeout"))

    response = api.post(CHECKOUT_URL, {"pricing": monthly.pk})

    assert response.status_code == 503
    body = response.json()
    assert body["user_message"] == TransientProviderError.default_user_message
    assert body["retryable"] is True
    assert "timeout" not in response.content.decode()
    attempt = PaymentAttempt.objects.get()
    assert attempt.status == PaymentAttemptStatus.FAILED
    assert attempt.order.status == OrderStatus.FAILED

    locmem.fail_next("create_checkout_session", CardError("declined", code="card_declined"))
    permanent = api.post(CHECKOUT_URL, {"pricing": monthly.pk})
    assert permanent.status_code == 502
    assert permanent.json()["user_message"] == "The card was declined."


def test_create_change_and_cancel_a_subscription_directly(
    api: Any, user: Any, locmem: Any, monthly: Any, yearly: Any
) -> None:
    created = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk, "quantity": 2})
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "active"
    sub = Subscription.objects.get(pk=created.json()["id"])
    assert (sub.status, sub.quantity, sub.pricing) == (SubscriptionStatus.ACTIVE, 2, monthly)
    assert sub.current_period_end is not None
    # Until the provider's event links it, a change has to wait.
    early = api.patch(subscription_url(sub.pk), {"quantity": 4})
    assert early.status_code == 409
    assert early.json()["code"] == "subscription_not_synced"
    deliver(locmem)
    remote_id = ExternalSubscription.objects.get(subscription=sub).external_id
    assert locmem.subscriptions[remote_id].metadata["payments_sync_id"] == str(sub.pk)

    second = api.post(SUBSCRIPTIONS_URL, {"pricing": yearly.pk})
    assert second.status_code == 409
    assert second.json()["code"] == "subscription_limit"

    changed = api.patch(subscription_url(sub.pk), {"pricing": yearly.pk, "quantity": 4})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["pricing"], changed.json()["quantity"]) == (yearly.pk, 4)
    update = locmem.calls_to("update_subscription")[-1]
    assert update.kwargs["proration_behavior"] == "create_prorations"
    assert locmem.subscriptions[remote_id].quantity == 4
    deliver(locmem)
    sub.refresh_from_db()
    assert (sub.pricing, sub.quantity) == (yearly, 4)

    out_of_bounds = api.patch(subscription_url(sub.pk), {"quantity": 11})
    assert out_of_bounds.status_code == 400
    assert out_of_bounds.json()["code"] == "quantity_out_of_range"

    at_end = api.delete(subscription_url(sub.pk))
    assert at_end.status_code == 200
    assert at_end.json()["cancel_at_period_end"] is True
    assert at_end.json()["status"] == "active"
    deliver(locmem)

    resumed = api.patch(subscription_url(sub.pk), {"cancel_at_period_end": False})
    assert resumed.json()["cancel_at_period_end"] is False
    deliver(locmem)

    now = api.delete(f"{subscription_url(sub.pk)}?at_period_end=false")
    assert now.status_code == 200
    assert now.json()["status"] == "canceled"
    assert locmem.subscriptions[remote_id].status == "canceled"
    deliver(locmem)
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELED
    again = api.delete(subscription_url(sub.pk))
    assert again.status_code == 409
    assert again.json()["code"] == "subscription_not_live"
    # Canceled ones no longer count: a new subscription is allowed.
    assert api.post(SUBSCRIPTIONS_URL, {"pricing": yearly.pk}).status_code == 201


def test_a_failed_direct_subscription_does_not_count_towards_the_limit(
    api: Any, locmem: Any, monthly: Any
) -> None:
    locmem.fail_next("create_subscription", CardError("no card", code="card_declined"))

    failed = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk})

    assert failed.status_code == 502
    assert Subscription.objects.get().status == SubscriptionStatus.INCOMPLETE_EXPIRED
    assert api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk}).status_code == 201


def test_a_subscription_needs_a_recurring_price(api: Any, locmem: Any, one_time: Any) -> None:
    response = api.post(SUBSCRIPTIONS_URL, {"pricing": one_time.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "not_recurring"


def test_moving_to_another_currency_is_refused(api: Any, locmem: Any, monthly: Any) -> None:
    from tests.factories import PricingFactory

    usd = PricingFactory(product=monthly.product, currency="usd", amount=1600, interval="month")
    sub = Subscription.objects.get(
        pk=api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk}).json()["id"]
    )

    response = api.patch(subscription_url(sub.pk), {"pricing": usd.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "currency_mismatch"
