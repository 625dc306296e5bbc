"""Access: does an owner have what they pay for now? One rule, ``Subscription.is_entitled``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from django_payments_sync.models import (
    ENTITLED_STATUSES,
    Customer,
    Subscription,
    SubscriptionStatus,
)


def entitled_subscriptions(customer: Customer, at: dt.datetime | None = None) -> list[Subscription]:
    """The customer's subscriptions that give access at ``at`` (now), newest first.

    One query: the statuses that may give access are read, the rule itself is
    :meth:`~django_payments_sync.models.Subscription.is_entitled` (no second copy in SQL).
    """
    at = at or timezone.now()
    candidates = Subscription.objects.filter(
        customer=customer, status__in=ENTITLED_STATUSES
    ).select_related("pricing__product")
    return [s for s in candidates if s.is_entitled(at)]


def has_active_subscription(owner: Any, at: dt.datetime | None = None) -> bool:
    """Whether ``owner`` (a user or an organization: what the adapter's
    ``get_owner_for_user`` answers) has a subscription that gives access now.

    Never creates a customer; an owner without one has no access. Two queries at most.
    """
    if owner is None or getattr(owner, "is_anonymous", False) or owner.pk is None:
        return False
    customer = Customer.objects.filter(owner=owner).first()
    if customer is None:
        return False
    return bool(entitled_subscriptions(customer, at))


#: Statuses that hold a place under the subscription limit besides the entitled ones: a first
#: payment underway, and a paused subscription, which is resumed rather than bought again.
PLACE_HOLDING_STATUSES = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.PAUSED)


def holds_a_place(subscription: Subscription, at: dt.datetime | None = None) -> bool:
    """Whether ``subscription`` counts towards ``MAX_ACTIVE_SUBSCRIPTIONS``: it gives access, is
    being paid for the first time, or is paused. One whose access ended (unpaid, past_due
    beyond the grace period, canceled at a period's end that has passed) does not: the
    customer may buy access again."""
    if subscription.status in PLACE_HOLDING_STATUSES or subscription.is_paused:
        return subscription.status not in (
            SubscriptionStatus.CANCELED,
            SubscriptionStatus.INCOMPLETE_EXPIRED,
        )
    return subscription.is_entitled(at)


def subscriptions_holding_a_place(customer: Customer) -> list[Subscription]:
    """The customer's subscriptions that count towards the limit (one query)."""
    now = timezone.now()
    candidates = Subscription.objects.filter(
        customer=customer, status__in=(*ENTITLED_STATUSES, *PLACE_HOLDING_STATUSES)
    )
    return [s for s in candidates if holds_a_place(s, now)]
