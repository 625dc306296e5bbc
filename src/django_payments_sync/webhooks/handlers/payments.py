"""Checkout events: settled payment attempts and orders, new customers (invoices: ``invoices``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from django_payments_sync import signals
from django_payments_sync.backends.types import (
    METADATA_ATTEMPT_KEY,
    CheckoutSession,
    EventKind,
    ProviderEvent,
)
from django_payments_sync.models import (
    Customer,
    ExternalSubscription,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
)
from django_payments_sync.models.prepared import PreparedLookup
from django_payments_sync.sync.payments import signal_order_payment
from django_payments_sync.webhooks.handlers.customers import (
    customer_link,
    link_customer,
)
from django_payments_sync.webhooks.handlers.registry import (
    EventResult,
    handles,
    read_object,
)
from django_payments_sync.webhooks.handlers.subscriptions import discount_from_checkout


def _attempts(provider: str, external_id: str) -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.select_related("order__customer").filter(
        provider=provider, external_id=external_id
    )


def _subscription_links(provider: str, external_id: str) -> QuerySet[ExternalSubscription]:
    return ExternalSubscription.objects.select_related("subscription").filter(
        provider=provider, external_id=external_id
    )


#: The checkout's lookups, compiled once per connection: its payment attempt, its subscription.
ATTEMPT = PreparedLookup(_attempts)
SUBSCRIPTION = PreparedLookup(_subscription_links)


# --- checkout -----------------------------------------------------------------------------
def _attempt_for(provider: str, session: CheckoutSession) -> PaymentAttempt | None:
    attempt = ATTEMPT.first(provider=provider, external_id=session.id)
    if attempt is not None:
        return attempt

    attempt_id = session.metadata.get(METADATA_ATTEMPT_KEY, "")
    if attempt_id.isdigit():
        return (
            PaymentAttempt.objects.select_related("order__customer")
            .filter(pk=int(attempt_id), provider=provider)
            .first()
        )
    if session.client_reference_id and session.client_reference_id.isdigit():
        return (
            PaymentAttempt.objects.select_related("order__customer")
            .filter(order_id=int(session.client_reference_id), provider=provider)
            .order_by("-created_at")
            .first()
        )
    return None


def _customer_for_checkout(
    event: ProviderEvent, session: CheckoutSession, attempt: PaymentAttempt | None
) -> tuple[Customer | None, bool, tuple[str, ...]]:
    """The local customer of a checkout: linked, the order's, or created for its email.

    Returns the customer, whether a user was created, and what deferred events may wait for.
    """
    provider = event.provider
    if session.customer_id:
        link = customer_link(provider, session.customer_id)
        if link is not None:
            return link.customer, False, ()
    user_created = False
    if attempt is not None:
        customer = attempt.order.customer
    elif session.customer_email:
        from django_payments_sync.conf import get_adapter
        from django_payments_sync.sync.owners import get_or_create_customer
        from django_payments_sync.webhooks import locks

        adapter = get_adapter()
        email = adapter.normalize_email(session.customer_email)
        # Checkouts of different provider customers may share an email: one user for them all
        # (the adapter is race-safe by itself too; the lock spares it the race).
        locks.acquire(locks.lock_key(provider, f"email:{email}"), required=False)
        user_created = not get_user_model()._default_manager.filter(email__iexact=email).exists()
        owner = adapter.get_or_create_user(email=email, name=session.customer_name)
        customer = get_or_create_customer(owner, created_from="checkout")
    else:
        return None, False, ()
    released: tuple[str, ...] = ()
    if session.customer_id:
        _, released = link_customer(provider, customer, session.customer_id)
    return customer, user_created, released


@handles(EventKind.CHECKOUT_COMPLETED, EventKind.CHECKOUT_PAYMENT_SUCCEEDED)
def apply_checkout_completed(event: ProviderEvent) -> EventResult:
    """Settle the payment attempt and its order, link the subscription, create the customer."""
    provider = event.provider
    session = read_object(event, CheckoutSession)
    attempt = _attempt_for(provider, session)
    customer, user_created, released = _customer_for_checkout(event, session, attempt)
    if customer is None:
        return EventResult(ignored=True, note="A checkout with neither customer nor email.")
    subscription = None
    if session.subscription_id:
        sub_link = SUBSCRIPTION.first(provider=provider, external_id=session.subscription_id)
        subscription = sub_link.subscription if sub_link is not None else None
    paid = session.payment_status in ("paid", "no_payment_required")
    if attempt is None:
        return EventResult(note="No local payment attempt: customer linked only.", release=released)
    order = attempt.order
    if attempt.last_event_at is not None and event.created < attempt.last_event_at:
        return EventResult(note="Older than the state already applied.", release=released)
    now = timezone.now()
    attempt.external_id = attempt.external_id or session.id
    attempt.last_event_at = event.created
    # Remembered for the subscription's own event, should it be applied after this one.
    attempt.subscription_external_id = session.subscription_id or ""
    # The payment a refund names (a one-time checkout's).
    attempt.payment_external_id = session.payment_id or attempt.payment_external_id
    # A redelivered completion never undoes a refund made since.
    refunded = (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
    if paid and attempt.status not in refunded:
        attempt.status = PaymentAttemptStatus.SUCCEEDED
    attempt.save(
        update_fields=[
            "external_id",
            "status",
            "last_event_at",
            "subscription_external_id",
            "payment_external_id",
            "updated_at",
        ]
    )
    order_fields = []
    if paid and order.status not in (OrderStatus.PAID, *refunded):
        order.status = OrderStatus.PAID
        order.paid_at = now
        order_fields += ["status", "paid_at"]
    if subscription is not None and order.subscription_id is None:
        order.subscription = subscription
        order_fields.append("subscription")
        if order.promotion_code_id is not None:
            discount_from_checkout(subscription, order.promotion_code_id)
    if order_fields:
        order.save(update_fields=[*order_fields, "updated_at"])
    if paid:
        signals.send_after_commit(
            signals.checkout_completed,
            sender=PaymentAttempt,
            payment_attempt=attempt,
            order=order,
            customer=customer,
            subscription=subscription,
            user_created=user_created,
        )
        if session.mode == "payment":
            signals.send_after_commit(
                signals.payment_succeeded,
                sender=Order,
                customer=customer,
                subscription=None,
                order=order,
                amount=order.amount,
                currency=order.currency,
                invoice_id=None,
                hosted_invoice_url=None,
            )
    return EventResult(release=released)


@handles(EventKind.CHECKOUT_EXPIRED, EventKind.CHECKOUT_PAYMENT_FAILED)
def apply_checkout_ended(event: ProviderEvent) -> EventResult:
    """The checkout expired (or its delayed payment failed): the attempt and its order end."""
    provider = event.provider
    session = read_object(event, CheckoutSession)
    attempt = _attempt_for(provider, session)
    if attempt is None:
        return EventResult(ignored=True, note="No local payment attempt.")
    if (
        attempt.status == PaymentAttemptStatus.SUCCEEDED
        and event.kind is EventKind.CHECKOUT_EXPIRED
    ):
        return EventResult(note="Already paid.")
    if attempt.last_event_at is not None and event.created < attempt.last_event_at:
        return EventResult(note="Older than the state already applied.")
    failed = event.kind is EventKind.CHECKOUT_PAYMENT_FAILED
    attempt.status = PaymentAttemptStatus.FAILED if failed else PaymentAttemptStatus.EXPIRED
    attempt.last_event_at = event.created
    attempt.save(update_fields=["status", "last_event_at", "updated_at"])
    order = attempt.order
    still_open = (
        order.payment_attempts.filter(
            status__in=[PaymentAttemptStatus.CREATED, PaymentAttemptStatus.SUCCEEDED]
        )
        .exclude(pk=attempt.pk)
        .exists()
    )
    if order.status == OrderStatus.PENDING and not still_open:
        order.status = OrderStatus.FAILED if failed else OrderStatus.CANCELED
        order.save(update_fields=["status", "updated_at"])
    if failed:
        signal_order_payment(order, failure="The delayed payment failed.")
    return EventResult()
