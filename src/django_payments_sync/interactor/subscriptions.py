"""Subscriptions: limits, direct creation, changes of price or quantity, and cancellation."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    METADATA_MODEL_KEY,
    ProviderSubscription,
    SubscriptionData,
)
from django_payments_sync.conf import get_adapter, payments_settings
from django_payments_sync.exceptions import PolicyViolation, ProviderError
from django_payments_sync.interactor import provider
from django_payments_sync.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    Customer,
    Subscription,
    SubscriptionStatus,
    SyncStatus,
)
from django_payments_sync.sync.snapshots import installation_key

logger = logging.getLogger(__name__)

#: Codes of :class:`PolicyViolation` that mean "the state forbids it" (HTTP 409) rather than
#: "the request is wrong" (HTTP 400).
CONFLICT_CODES = frozenset(
    {
        "subscription_limit",
        "no_payment_method",
        "subscription_not_live",
        "subscription_not_synced",
        "order_not_pending",
        "price_not_synced",
        "subscription_not_paused",
    }
)


# --- policy -------------------------------------------------------------------------------
def check_pricing(pricing: Any, *, recurring: bool | None = None) -> None:
    """Refuse an inactive pricing (or product), or one of the wrong kind."""
    if not pricing.active or not pricing.product.active:
        raise PolicyViolation("This price is not available any more.", code="pricing_inactive")
    if recurring is True and not pricing.interval:
        raise PolicyViolation(
            "This is a one-time price: a subscription needs a recurring price.",
            code="not_recurring",
        )


def check_quantity(pricing: Any, quantity: int) -> None:
    """Refuse a quantity outside the pricing's ``min_quantity``..``max_quantity``."""
    low, high = pricing.min_quantity, pricing.max_quantity
    if quantity < max(low, 1):
        raise PolicyViolation(
            f"The quantity must be at least {max(low, 1)} for this price.",
            code="quantity_out_of_range",
        )
    if high is not None and quantity > high:
        raise PolicyViolation(
            f"The quantity must be at most {high} for this price.", code="quantity_out_of_range"
        )


def live_subscriptions(customer: Customer) -> QuerySet[Subscription]:
    return Subscription.objects.filter(customer=customer, status__in=LIVE_SUBSCRIPTION_STATUSES)


def check_subscription_limit(customer: Customer) -> None:
    """Refuse one more subscription when the customer already holds the most allowed (those
    that give access, a first payment underway, paused ones: see ``access.holds_a_place``)."""
    from django_payments_sync.interactor.access import subscriptions_holding_a_place

    limit = get_adapter().get_subscription_limit(customer)
    if limit is None:
        return
    count = len(subscriptions_holding_a_place(customer))
    if count >= limit:
        noun = "subscription" if limit == 1 else "subscriptions"
        raise PolicyViolation(
            f"You already have {count} active {'subscription' if count == 1 else 'subscriptions'}"
            f" and at most {limit} {noun} may be active at a time: change or cancel the current "
            "one instead.",
            code="subscription_limit",
        )


# --- local state from the provider's answer -----------------------------------------------
def show_provider_state(subscription: Subscription, state: ProviderSubscription) -> Subscription:
    """Set the provider's answer on ``subscription`` in memory, for the API's response.

    The row itself is written by the provider's webhook events, applied in order under the
    webhook lock: one writer, so a state never flips back through an older event and each
    change sends its host signals (``subscription_updated``, ``_canceled``) exactly once.
    """
    from django_payments_sync.sync.snapshots import subscription_values

    pricing = provider.pricing_for_price_id(state.price_id) if state.price_id else None
    for name, value in subscription_values(state, pricing.pk if pricing else None).items():
        setattr(subscription, name, value)
    if pricing is not None:
        subscription.pricing = pricing
    return subscription


#: A create whose answer never came is retried under its idempotency key within this time
#: (Stripe keeps idempotent results for 24 hours).
UNANSWERED_CREATE_WINDOW = dt.timedelta(hours=23)


def _mark_failed(subscription: Subscription, error: Exception) -> None:
    # A retryable error (a timeout, a 5xx, a 429) may hide a create the provider did: the
    # outcome stays unknown (pending) and the customer's retry reuses this row and its key.
    retryable = isinstance(error, ProviderError) and error.retryable
    subscription.sync_status = SyncStatus.PENDING if retryable else SyncStatus.FAILED
    subscription.sync_error = str(error)[:2000]
    if not provider.subscription_external_id(subscription):
        # Never reached the provider: it must not count towards the limit.
        subscription.status = SubscriptionStatus.INCOMPLETE_EXPIRED
    subscription.save(update_fields=["sync_status", "sync_error", "status", "updated_at"])


class SubscriptionService:
    """Subscriptions of a customer, kept in step with the provider."""

    def list_for(self, customer: Customer) -> QuerySet[Subscription]:
        """The customer's subscriptions with their product and their open invoices (what the
        customer still has to pay or confirm: ``open_invoices``)."""
        from django.db.models import Prefetch

        from django_payments_sync.models import Invoice

        open_invoices = Invoice.objects.filter(status="open", amount_remaining__gt=0)
        return (
            Subscription.objects.filter(customer=customer)
            # The promotion code shown beside each one, read in the same query.
            .select_related("pricing__product", "discount__promotion_code__coupon")
            .prefetch_related(Prefetch("invoices", open_invoices, to_attr="open_invoices"))
        )

    def get_for(self, customer: Customer, subscription_id: int) -> Subscription:
        """The customer's own subscription; another customer's raises ``DoesNotExist`` too."""
        return self.list_for(customer).get(pk=subscription_id)

    def create_subscription(
        self, customer: Customer, pricing: Any, quantity: int = 1
    ) -> Subscription:
        """Subscribe ``customer`` directly, charging their default payment method.

        For a customer without one, checkout is the way (the provider refuses the create).
        A first payment that needs the customer (3-D Secure, a declined card) leaves the
        subscription ``incomplete`` with the open invoice's ``hosted_invoice_url`` to finish
        it; the provider ends it (``incomplete_expired``) when it is not paid within a day.
        """
        check_pricing(pricing, recurring=True)
        check_quantity(pricing, quantity)
        if pricing.is_metered:
            quantity = 1  # the meter's usage is what is billed, not a quantity
        customer_id = provider.ensure_customer_id(customer)
        price_id = provider.ensure_price_id(pricing)
        with transaction.atomic():
            # The lock makes the limit hold when two requests of one customer race.
            locked = Customer.objects.select_for_update().get(pk=customer.pk)
            check_subscription_limit(locked)
            subscription = self._unanswered_create(locked, pricing, quantity)
            if subscription is not None:
                subscription.status = SubscriptionStatus.INCOMPLETE
                subscription.save(update_fields=["status", "updated_at"])
            else:
                subscription = Subscription.objects.create(
                    customer=locked,
                    pricing=pricing,
                    quantity=quantity,
                    status=SubscriptionStatus.INCOMPLETE,
                    sync_status=SyncStatus.PENDING,
                )
        data = SubscriptionData(
            local_id=str(subscription.pk),
            customer_id=customer_id,
            price_id=price_id,
            quantity=quantity,
            metered=pricing.is_metered,
            trial_period_days=pricing.trial_period_days,
            metadata={
                METADATA_ID_KEY: str(subscription.pk),
                METADATA_MODEL_KEY: Subscription._meta.label_lower,
            },
        )
        try:
            state = provider.backend().create_subscription(
                data, idempotency_key=installation_key(f"subscription-{subscription.pk}-create")
            )
        except ProviderError as exc:
            _mark_failed(subscription, exc)
            raise
        # Saved without its provider link: the subscription's created event links it (found
        # through the metadata) and signals ``subscription_created``. Should that event have
        # been applied already, its state stands.
        from django_payments_sync.sync.snapshots import subscription_values

        values = subscription_values(state, pricing.pk)
        Subscription.objects.filter(pk=subscription.pk).exclude(
            external_subscriptions__provider=provider.backend().provider_name
        ).update(**values, sync_status=SyncStatus.SYNCED, updated_at=timezone.now())
        subscription.refresh_from_db()
        if state.status == SubscriptionStatus.INCOMPLETE:
            # The first payment needs the customer (authentication, or another card): the
            # answer shows the provider's page for it; its events keep the local invoice.
            from django_payments_sync.interactor.lifecycle import show_open_invoices

            show_open_invoices(subscription, state.customer_id, state.id)
        return subscription

    def _unanswered_create(
        self, customer: Customer, pricing: Any, quantity: int
    ) -> Subscription | None:
        """The customer's latest identical create that got no answer: the provider may hold
        it, so trying again must send the same idempotency key, never subscribe twice."""
        return (
            Subscription.objects.filter(
                customer=customer,
                pricing=pricing,
                quantity=quantity,
                status=SubscriptionStatus.INCOMPLETE_EXPIRED,
                sync_status=SyncStatus.PENDING,
                external_subscriptions__isnull=True,
                created_at__gte=timezone.now() - UNANSWERED_CREATE_WINDOW,
            )
            .order_by("-pk")
            .first()
        )

    def check_change(
        self, subscription: Subscription, pricing: Any = None, quantity: int | None = None
    ) -> tuple[Any, int]:
        """The price and quantity a change asks for, refused when the subscription is over,
        the price is not available or in another currency, or the quantity is out of range."""
        if not subscription.is_live:
            raise PolicyViolation(
                f"This subscription is {subscription.status} and can no longer be changed.",
                code="subscription_not_live",
            )
        new_pricing = pricing if pricing is not None else subscription.pricing
        new_quantity = quantity if quantity is not None else subscription.quantity
        if pricing is not None and pricing.pk != subscription.pricing_id:
            check_pricing(pricing, recurring=True)
            if pricing.currency != subscription.pricing.currency:
                raise PolicyViolation(
                    f"A {subscription.pricing.currency.upper()} subscription cannot move to a "
                    f"{pricing.currency.upper()} price.",
                    code="currency_mismatch",
                )
        if new_pricing.is_metered:
            if quantity is not None and quantity != subscription.quantity:
                raise PolicyViolation(
                    "A metered price has no quantity: its usage is billed.",
                    code="metered_quantity",
                )
            return new_pricing, 1
        check_quantity(new_pricing, new_quantity)
        return new_pricing, new_quantity

    def update_subscription(
        self,
        subscription: Subscription,
        *,
        pricing: Any = None,
        quantity: int | None = None,
        cancel_at_period_end: bool | None = None,
        proration_behavior: str | None = None,
    ) -> Subscription:
        """Change the price or quantity (prorated as ``proration_behavior`` says, by default
        the ``PRORATION_BEHAVIOR`` setting), or undo a cancellation at period end with
        ``cancel_at_period_end=False``."""
        new_pricing, new_quantity = self.check_change(subscription, pricing, quantity)
        price_changed = new_pricing.pk != subscription.pricing_id
        quantity_changed = new_quantity != subscription.quantity
        cancel_changed = (
            cancel_at_period_end is not None
            and cancel_at_period_end != subscription.cancel_at_period_end
        )
        if not (price_changed or quantity_changed or cancel_changed):
            return subscription
        external_id = self.external_id_of(subscription)
        try:
            state = provider.backend().update_subscription(
                external_id,
                price_id=provider.ensure_price_id(new_pricing) if price_changed else None,
                # A metered price takes no quantity (the provider refuses one).
                quantity=(
                    new_quantity
                    if (quantity_changed or price_changed) and not new_pricing.is_metered
                    else None
                ),
                proration_behavior=(
                    proration_behavior or payments_settings.PRORATION_BEHAVIOR
                    if (price_changed or quantity_changed)
                    else None
                ),
                cancel_at_period_end=cancel_at_period_end if cancel_changed else None,
            )
        except ProviderError as exc:
            subscription.sync_error = str(exc)[:2000]
            subscription.save(update_fields=["sync_error", "updated_at"])
            raise
        return show_provider_state(subscription, state)

    def cancel_subscription(
        self, subscription: Subscription, *, at_period_end: bool = True
    ) -> Subscription:
        """Cancel at the end of the paid period (the default) or at once."""
        if not subscription.is_live:
            raise PolicyViolation(
                f"This subscription is already {subscription.status}.",
                code="subscription_not_live",
            )
        if at_period_end and subscription.cancel_at_period_end:
            return subscription
        state = provider.backend().cancel_subscription(
            self.external_id_of(subscription), at_period_end=at_period_end
        )
        return show_provider_state(subscription, state)

    def external_id_of(self, subscription: Subscription) -> str:
        external_id = provider.subscription_external_id(subscription)
        if not external_id:
            raise PolicyViolation(
                "This subscription has not reached the payment provider yet; try again shortly.",
                code="subscription_not_synced",
            )
        return external_id


#: The name before the design's (kept for existing imports).
SubscriptionsService = SubscriptionService
