"""Applying subscription, invoice and checkout events to subscriptions, orders and attempts."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_payments_sync import signals
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    CheckoutSession,
    EventKind,
    ProviderEvent,
    ProviderInvoice,
    ProviderSubscription,
)
from django_payments_sync.interactor.events import (
    Deferred,
    EventResult,
    customer_link,
    handles,
    is_newer,
    link_customer,
    read_object,
    stamp,
    waiting_for_customer,
)
from django_payments_sync.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    Customer,
    ExternalPricing,
    ExternalSubscription,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    Subscription,
    SubscriptionStatus,
    SyncStatus,
)
from django_payments_sync.sync.rows import provider_subscription_hash
from django_payments_sync.sync.snapshots import subscription_values

logger = logging.getLogger(__name__)

#: Fields of a local subscription that the provider's state decides.
SUBSCRIPTION_FIELDS = (
    "status",
    "quantity",
    "pricing_id",
    "current_period_start",
    "current_period_end",
    "trial_end",
    "cancel_at_period_end",
    "canceled_at",
    "ended_at",
)


def waiting_for_subscription(provider_subscription_id: str) -> str:
    return f"subscription:{provider_subscription_id}"


def _pricing_id(provider: str, price_id: str) -> int | None:
    if not price_id:
        return None
    return (
        ExternalPricing.objects.filter(provider=provider, external_id=price_id)
        .values_list("pricing_id", flat=True)
        .first()
    )


def _order_for_new_subscription(event: ProviderEvent, subscription: Subscription) -> None:
    """Link the order paid through the checkout that opened this subscription, if settled."""
    Order.objects.filter(
        subscription__isnull=True,
        pk__in=PaymentAttempt.objects.filter(
            provider=event.provider, subscription_external_id=event.object_id
        ).values("order_id"),
    ).update(subscription=subscription, updated_at=timezone.now())


def send_subscription_signals(
    subscription: Subscription, previous: dict[str, Any] | None, created: bool
) -> None:
    customer = subscription.customer
    if created:
        signals.send_after_commit(
            signals.subscription_created,
            sender=Subscription,
            subscription=subscription,
            customer=customer,
        )
        return
    assert previous is not None
    changed = tuple(f for f in SUBSCRIPTION_FIELDS if previous[f] != getattr(subscription, f))
    if not changed:
        return
    signals.send_after_commit(
        signals.subscription_updated,
        sender=Subscription,
        subscription=subscription,
        customer=customer,
        previous_status=previous["status"],
        changed_fields=changed,
    )
    if subscription.status == SubscriptionStatus.CANCELED and previous["status"] != "canceled":
        signals.send_after_commit(
            signals.subscription_canceled,
            sender=Subscription,
            subscription=subscription,
            customer=customer,
            at_period_end=False,
        )
    elif subscription.cancel_at_period_end and not previous["cancel_at_period_end"]:
        signals.send_after_commit(
            signals.subscription_canceled,
            sender=Subscription,
            subscription=subscription,
            customer=customer,
            at_period_end=True,
        )


@handles(
    EventKind.SUBSCRIPTION_CREATED,
    EventKind.SUBSCRIPTION_UPDATED,
    EventKind.SUBSCRIPTION_ENDED,
    EventKind.SUBSCRIPTION_TRIAL_ENDING,
    EventKind.SUBSCRIPTION_PAUSED,
    EventKind.SUBSCRIPTION_RESUMED,
)
def apply_subscription(event: ProviderEvent) -> EventResult:
    result = _apply_subscription(event)
    if event.kind is EventKind.SUBSCRIPTION_TRIAL_ENDING and not result.ignored:
        # The provider's notice ahead of a trial's end: no field changes with it.
        link = (
            ExternalSubscription.objects.select_related("subscription__customer")
            .filter(provider=event.provider, external_id=event.object_id)
            .first()
        )
        if link is not None and link.subscription.trial_end is not None:
            signals.send_after_commit(
                signals.subscription_trial_ending,
                sender=Subscription,
                subscription=link.subscription,
                customer=link.subscription.customer,
                trial_end=link.subscription.trial_end,
            )
    return result


def _apply_subscription(event: ProviderEvent) -> EventResult:
    """Create or update the local subscription from the provider's snapshot, never backwards."""
    provider = event.provider
    state = read_object(event, ProviderSubscription)
    link = (
        ExternalSubscription.objects.select_related("subscription__customer")
        .filter(provider=provider, external_id=state.id)
        .first()
    )
    pricing_id = _pricing_id(provider, state.price_id)
    if link is not None:
        if not is_newer(event, link):
            return EventResult(note="Older than the state already applied.")
        subscription = link.subscription
        previous = {f: getattr(subscription, f) for f in SUBSCRIPTION_FIELDS}
        for name, value in subscription_values(state, pricing_id).items():
            setattr(subscription, name, value)
        changed = [f for f in SUBSCRIPTION_FIELDS if previous[f] != getattr(subscription, f)]
        if changed or subscription.sync_status != SyncStatus.SYNCED:
            subscription.sync_status = SyncStatus.SYNCED
            subscription.save(update_fields=[*changed, "sync_status", "updated_at"])
        # What the provider holds now, in the push's terms: a later save of the row (an admin
        # save that changes nothing) pushes only a real change, never this state's past.
        link.content_hash = provider_subscription_hash(state)
        link.save(update_fields=[*stamp(link, event), "content_hash"])
        send_subscription_signals(subscription, previous, created=False)
        note = "" if pricing_id or not state.price_id else f"Price {state.price_id} is not ours."
        if "status" in changed:
            enforce_subscription_limit(subscription, previous_status=previous["status"])
        return EventResult(note=note)

    customer_row = customer_link(provider, state.customer_id, with_live_count=True)
    if customer_row is None:
        raise Deferred(waiting_for_customer(state.customer_id))
    if pricing_id is None:
        raise Deferred(
            f"price:{state.price_id}",
            f"Price {state.price_id} has no local pricing; push the catalog, then run "
            "`payments_sync events process`.",
        )
    customer = customer_row.customer
    values = subscription_values(state, pricing_id)
    local_id = state.metadata.get(METADATA_ID_KEY, "")
    # Our own API call created it: the local row exists, its link may not be saved yet.
    found = (
        Subscription.objects.filter(pk=int(local_id), customer=customer)
        .exclude(external_subscriptions__provider=provider)
        .first()
        if local_id.isdigit()
        else None
    )
    if found is None:
        subscription = Subscription(customer=customer, **values)
        created = True
    else:
        subscription = found
        for name, value in values.items():
            setattr(subscription, name, value)
        created = False
    subscription.sync_status = SyncStatus.SYNCED
    subscription.save()
    try:
        with transaction.atomic():
            new_link = ExternalSubscription.objects.create(
                provider=provider,
                subscription=subscription,
                external_id=state.id,
                last_event_at=event.created,
                last_event_id=event.id,
                content_hash=provider_subscription_hash(state),
            )
    except IntegrityError:
        # The API call that created it linked it at the same moment: apply over that link.
        if created:
            subscription.delete()
        return _apply_subscription(event)
    del new_link
    subscription.customer = customer
    _order_for_new_subscription(event, subscription)
    send_subscription_signals(subscription, None, created=True)
    enforce_subscription_limit(
        subscription, previous_status=None, live_before=getattr(customer_row, "live_count", None)
    )
    return EventResult(release=(waiting_for_subscription(state.id),))


def enforce_subscription_limit(
    subscription: Subscription, *, previous_status: str | None, live_before: int | None = None
) -> None:
    """Keep a customer within ``MAX_ACTIVE_SUBSCRIPTIONS`` when a subscription becomes live.

    The provider already holds the new subscription (and may have charged it), so the newest
    live ones are kept and the oldest beyond the limit are canceled at the provider, after
    commit; their ``deleted`` events then update the local rows. ``live_before`` (the
    customer's live subscriptions before this one, when the caller knows it) saves a query.
    """
    if subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
        return
    if previous_status in LIVE_SUBSCRIPTION_STATUSES:
        return
    from django_payments_sync.adapter import get_adapter

    limit = get_adapter().get_subscription_limit(subscription.customer)
    if limit is None or (live_before is not None and live_before + 1 <= limit):
        return
    live = list(
        Subscription.objects.filter(
            customer_id=subscription.customer_id, status__in=LIVE_SUBSCRIPTION_STATUSES
        )
        .exclude(pk=subscription.pk)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    excess = live[max(limit - 1, 0) :]
    if not excess:
        return
    Subscription.objects.filter(pk__in=excess).update(
        cancel_at_period_end=True, sync_status=SyncStatus.PENDING, updated_at=timezone.now()
    )
    transaction.on_commit(lambda: _cancel_at_provider(excess))


def _cancel_at_provider(subscription_pks: list[int]) -> None:
    from django_payments_sync.backends import get_backend

    backend = get_backend()
    for link in ExternalSubscription.objects.filter(
        provider=backend.provider_name, subscription_id__in=subscription_pks
    ):
        try:
            backend.cancel_subscription(link.external_id, at_period_end=False)
        except Exception:  # the next event or `payments_sync push` retries; never lose the rest
            logger.exception("Could not cancel subscription %s over the limit", link.external_id)


# --- invoices -----------------------------------------------------------------------------
@handles(
    EventKind.INVOICE_PAID, EventKind.INVOICE_PAYMENT_SUCCEEDED, EventKind.INVOICE_PAYMENT_FAILED
)
def apply_invoice(event: ProviderEvent) -> EventResult:
    """A subscription invoice was paid or failed: tell the host (mail hooks on the signals)."""
    provider = event.provider
    invoice = read_object(event, ProviderInvoice)
    subscription: Subscription | None = None
    link: ExternalSubscription | None = None
    if invoice.subscription_id:
        link = (
            ExternalSubscription.objects.select_related("subscription__customer")
            .filter(provider=provider, external_id=invoice.subscription_id)
            .first()
        )
        if link is None:
            if customer_link(provider, invoice.customer_id) is None:
                raise Deferred(waiting_for_customer(invoice.customer_id))
            raise Deferred(waiting_for_subscription(invoice.subscription_id))
        subscription = link.subscription
        customer = subscription.customer
    else:
        customer_row = customer_link(provider, invoice.customer_id)
        if customer_row is None:
            return EventResult(ignored=True, note="An invoice of no local customer.")
        customer = customer_row.customer
    failed = event.kind is EventKind.INVOICE_PAYMENT_FAILED
    # The subscription's state comes from its own snapshots only: the provider sends a
    # subscription update for every change a payment causes, and an invoice carries
    # no snapshot to order against, so letting it write status would make the final state
    # depend on the arrival order. It does tell whether a failure is stale.
    newer = link is None or is_newer(event, link)
    # INVOICE_PAID and INVOICE_PAYMENT_SUCCEEDED describe the same payment: one signal.
    if event.kind is EventKind.INVOICE_PAYMENT_SUCCEEDED:
        return EventResult(note="Signalled on invoice.paid.")
    if failed and not newer:
        return EventResult(note="An older failure; the subscription moved on since.")
    signal = signals.payment_failed if failed else signals.payment_succeeded
    extra = {"failure_message": "The payment failed."} if failed else {}
    signals.send_after_commit(
        signal,
        sender=Subscription if subscription is not None else Customer,
        customer=customer,
        subscription=subscription,
        order=None,
        amount=invoice.amount_due if failed else invoice.amount_paid,
        currency=invoice.currency,
        invoice_id=invoice.id,
        hosted_invoice_url=invoice.hosted_invoice_url,
        **extra,
    )
    return EventResult()


# --- checkout -----------------------------------------------------------------------------
def _attempt_for(provider: str, session: CheckoutSession) -> PaymentAttempt | None:
    attempt = (
        PaymentAttempt.objects.select_related("order__customer")
        .filter(provider=provider, external_id=session.id)
        .first()
    )
    if attempt is not None:
        return attempt
    from django_payments_sync.interactor.orders import METADATA_ATTEMPT_KEY

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
        from django_payments_sync.adapter import get_adapter
        from django_payments_sync.interactor.customers import get_or_create_customer
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
        sub_link = (
            ExternalSubscription.objects.select_related("subscription")
            .filter(provider=provider, external_id=session.subscription_id)
            .first()
        )
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
    if paid:
        attempt.status = PaymentAttemptStatus.SUCCEEDED
    attempt.save(
        update_fields=[
            "external_id",
            "status",
            "last_event_at",
            "subscription_external_id",
            "updated_at",
        ]
    )
    order_fields = []
    if paid and order.status != OrderStatus.PAID:
        order.status = OrderStatus.PAID
        order.paid_at = now
        order_fields += ["status", "paid_at"]
    if subscription is not None and order.subscription_id is None:
        order.subscription = subscription
        order_fields.append("subscription")
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
        signals.send_after_commit(
            signals.payment_failed,
            sender=Order,
            customer=order.customer,
            subscription=None,
            order=order,
            amount=order.amount,
            currency=order.currency,
            invoice_id=None,
            hosted_invoice_url=None,
            failure_message="The delayed payment failed.",
        )
    return EventResult()
