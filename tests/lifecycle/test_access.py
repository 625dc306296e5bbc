"""Access rules: ``Subscription.is_entitled()``, ``payments.has_active_subscription(owner)``
and the subscription limit that follows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from django_payments_sync.interactor import payments
from django_payments_sync.interactor.access import holds_a_place
from django_payments_sync.models import Customer, Subscription
from tests.checkout.conftest import SUBSCRIPTIONS_URL
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def sub(**fields: Any) -> Subscription:
    values: dict[str, Any] = {
        "status": "active",
        "current_period_start": NOW - 10 * DAY,
        "current_period_end": NOW + 20 * DAY,
        **fields,
    }
    return Subscription(**values)


#: Each case: a subscription's fields, and whether it gives access at NOW.
CASES = [
    ({"status": "active"}, True),
    ({"status": "trialing", "trial_end": NOW + DAY}, True),
    ({"status": "incomplete"}, False),
    ({"status": "incomplete_expired"}, False),
    ({"status": "unpaid"}, False),
    ({"status": "paused"}, False),
    ({"status": "canceled", "ended_at": NOW - DAY}, False),
    # Canceled at the period's end: yes until that end, not after.
    ({"status": "active", "cancel_at_period_end": True}, True),
    (
        {"status": "active", "cancel_at_period_end": True, "current_period_end": NOW},
        False,
    ),
    # Collection paused: no access, whatever the status says.
    ({"status": "active", "pause_behavior": "void"}, False),
    # past_due: yes for GRACE_PERIOD_DAYS (7) after the failed renewal.
    ({"status": "past_due", "past_due_since": NOW - 6 * DAY}, True),
    ({"status": "past_due", "past_due_since": NOW - 7 * DAY}, False),
    # The failure's time unknown: the period's start (when renewals fail).
    ({"status": "past_due", "current_period_start": NOW - 3 * DAY}, True),
    ({"status": "past_due", "current_period_start": NOW - 8 * DAY}, False),
    ({"status": "past_due", "current_period_start": None}, False),
]


@pytest.mark.parametrize(("fields", "entitled"), CASES)
def test_is_entitled(fields: dict[str, Any], entitled: bool) -> None:
    assert sub(**fields).is_entitled(NOW) is entitled


def test_the_query_filter_answers_as_is_entitled() -> None:
    """entitled_q() (the entitlements' one query) and is_entitled() are one rule: every case
    above, stored, is found by the filter exactly when is_entitled() says yes."""
    from django_payments_sync.models.subscriptions import entitled_q

    defaults = {
        "status": "active",
        "current_period_start": NOW - 10 * DAY,
        "current_period_end": NOW + 20 * DAY,
    }
    rows = [SubscriptionFactory(**{**defaults, **fields}) for fields, _entitled in CASES]
    found = set(Subscription.objects.filter(entitled_q(NOW)).values_list("pk", flat=True))
    expected = {row.pk for row, (_f, entitled) in zip(rows, CASES, strict=True) if entitled}
    assert found == expected
    assert {row.pk for row in rows if row.is_entitled(NOW)} == expected


def test_the_grace_period_is_a_setting(settings: Any) -> None:
    late = sub(status="past_due", past_due_since=NOW - 10 * DAY)
    assert not late.is_entitled(NOW)
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "GRACE_PERIOD_DAYS": 14}
    assert late.is_entitled(NOW)
    assert late.grace_period_ends_at() == NOW + 4 * DAY
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "GRACE_PERIOD_DAYS": 0}
    assert not sub(status="past_due", past_due_since=NOW).is_entitled(NOW)


def test_past_due_since_follows_the_status() -> None:
    row = sub(status="past_due")
    row.note_status_change("active", NOW)
    assert row.past_due_since == NOW
    # A second failed attempt keeps the grace period's start.
    row.note_status_change("past_due", NOW + DAY)
    assert row.past_due_since == NOW
    row.status = "active"
    row.note_status_change("past_due", NOW + 2 * DAY)
    assert row.past_due_since is None


def test_has_active_subscription(user: Any, other_user: Any, monthly: Any) -> None:
    # No customer yet: no access, and asking creates none.
    assert payments.has_active_subscription(user) is False
    assert not Customer.objects.filter(owner=user).exists()
    customer = payments.get_customer(user)
    row = SubscriptionFactory(customer=customer, pricing=monthly, status="incomplete")
    assert payments.has_active_subscription(user) is False
    Subscription.objects.filter(pk=row.pk).update(
        status="past_due", past_due_since=timezone.now() - dt.timedelta(days=2)
    )
    assert payments.has_active_subscription(user) is True
    assert payments.has_active_subscription(other_user) is False
    Subscription.objects.filter(pk=row.pk).update(
        past_due_since=timezone.now() - dt.timedelta(days=8)
    )
    assert payments.has_active_subscription(user) is False
    assert payments.has_active_subscription(None) is False


def test_has_active_subscription_costs_two_queries(
    user: Any, monthly: Any, django_assert_num_queries: Any
) -> None:
    customer = payments.get_customer(user)
    for status in ("canceled", "unpaid", "active"):
        SubscriptionFactory(customer=customer, pricing=monthly, status=status)
    with django_assert_num_queries(2):
        assert payments.has_active_subscription(user)


@pytest.mark.parametrize(
    ("fields", "holds"),
    [
        ({"status": "incomplete"}, True),
        ({"status": "paused"}, True),
        ({"status": "active", "pause_behavior": "keep_as_draft"}, True),
        ({"status": "unpaid"}, False),
        ({"status": "past_due", "past_due_since": NOW - 30 * DAY}, False),
        ({"status": "past_due", "past_due_since": NOW - DAY}, True),
        ({"status": "canceled"}, False),
    ],
)
def test_what_holds_a_place_under_the_limit(fields: dict[str, Any], holds: bool) -> None:
    assert holds_a_place(sub(**fields), NOW) is holds


def test_the_limit_lets_a_customer_whose_access_ended_subscribe_again(
    api: Any, user: Any, monthly: Any, locmem: Any
) -> None:
    customer = payments.get_customer(user)
    old = SubscriptionFactory(
        customer=customer,
        pricing=monthly,
        status="past_due",
        past_due_since=timezone.now() - dt.timedelta(days=1),
        current_period_start=timezone.now() - dt.timedelta(days=1),
    )
    refused = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk})
    assert (refused.status_code, refused.json()["code"]) == (409, "subscription_limit")
    # The grace period runs out: the old one no longer holds the place.
    Subscription.objects.filter(pk=old.pk).update(
        past_due_since=timezone.now() - dt.timedelta(days=8)
    )
    assert not Subscription.objects.get(pk=old.pk).is_entitled()
    created = api.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk})
    assert created.status_code == 201, created.content
