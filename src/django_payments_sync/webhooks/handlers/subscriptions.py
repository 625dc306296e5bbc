"""Subscription events: the local subscription follows the provider's state, never backwards."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from django_payments_sync import signals
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    EventKind,
    ProviderEvent,
    ProviderSubscription,
)
from django_payments_sync.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    ExternalPricing,
    ExternalSubscription,
    Order,
    PaymentAttempt,
    Subscription,
    SubscriptionDiscount,
    SubscriptionStatus,
    SyncStatus,
)
from django_payments_sync.models.prepared import PreparedLookup
from django_payments_sync.sync.snapshots import subscription_values
from django_payments_sync.sync.subscriptions import provider_subscription_hash
from django_payments_sync.webhooks.handlers.customers import (
    customer_link,
    waiting_for_customer,
)
from django_payments_sync.webhooks.handlers.registry import (
    Deferred,
    EventResult,
    handles,
    is_newer,
    read_object,
    stamp,
    unique_row,
)

#: A subscription's relations read with its link, joined: what the handlers and the receivers
#: of their signals use (the mails show the billing email and the plan's name), so a receiver
#: after commit reads nothing more.
SUBSCRIPTION_FOR_MAIL = (
    "subscription__customer__billing_information",
    "subscription__pricing__product",
)

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
    "pause_behavior",
    "resumes_at",
)


#: The statuses a subscription's ending event leaves (with ``ended_at``).
ENDED_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


def subscription_links(provider: str, external_id: str) -> QuerySet[ExternalSubscription]:
    """The link of a provider subscription, with what the signals' receivers show (the mails:
    the billing email, the plan's name)."""
    return ExternalSubscription.objects.select_related(*SUBSCRIPTION_FOR_MAIL).filter(
        provider=provider, external_id=external_id
    )


def _subscription_links_with_pricing(
    provider: str, external_id: str, price_id: str
) -> QuerySet[ExternalSubscription]:
    # The local pricing of the event's price, read with the link.
    pricing = Subquery(_pricings(provider, price_id)[:1])
    return subscription_links(provider, external_id).annotate(event_pricing_id=pricing)


#: The link lookups of the subscription events, compiled once per connection.
SUBSCRIPTION_LINK = PreparedLookup(subscription_links)
SUBSCRIPTION_LINK_WITH_PRICING = PreparedLookup(_subscription_links_with_pricing)


def waiting_for_subscription(provider_subscription_id: str) -> str:
    return f"subscription:{provider_subscription_id}"


def _pricings(provider: str, price_id: str) -> QuerySet[ExternalPricing, int]:
    """The local pricing ids of a provider price (one at most), as a queryset of values."""
    return (
        ExternalPricing.objects.filter(provider=provider, external_id=price_id)
        .order_by()
        .values_list("pricing_id", flat=True)
    )


def _pricing_id(provider: str, price_id: str) -> int | None:
    if not price_id:
        return None
    return unique_row(_pricings(provider, price_id))


def _order_for_new_subscription(event: ProviderEvent, subscription: Subscription) -> None:
    """Link the order paid through the checkout that opened this subscription, if settled;
    the promotion code redeemed there becomes the subscription's discount. One query when
    there is no such order (the usual case: the checkout's completion links it)."""
    orders = list(
        Order.objects.filter(
            subscription__isnull=True,
            pk__in=PaymentAttempt.objects.filter(
                provider=event.provider, subscription_external_id=event.object_id
            ).values("order_id"),
        ).values_list("pk", "promotion_code_id")
    )
    if not orders:
        return
    Order.objects.filter(pk__in=[pk for pk, _ in orders], subscription__isnull=True).update(
        subscription=subscription, updated_at=timezone.now()
    )
    codes = [code for _, code in orders if code is not None]
    if codes:
        discount_from_checkout(subscription, codes[0])


def discount_from_checkout(subscription: Subscription, promotion_code_id: Any) -> None:
    """The code redeemed at the checkout that opened ``subscription`` is its discount from then
    on (whichever of the checkout's and the subscription's events comes first)."""
    SubscriptionDiscount.objects.get_or_create(
        subscription=subscription, defaults={"promotion_code_id": promotion_code_id}
    )


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
    if subscription.pause_behavior != previous["pause_behavior"]:
        if subscription.pause_behavior:
            signals.send_after_commit(
                signals.subscription_paused,
                sender=Subscription,
                subscription=subscription,
                customer=customer,
                behavior=subscription.pause_behavior,
                resumes_at=subscription.resumes_at,
            )
        else:
            signals.send_after_commit(
                signals.subscription_resumed,
                sender=Subscription,
                subscription=subscription,
                customer=customer,
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
    if state.price_id:
        link = SUBSCRIPTION_LINK_WITH_PRICING.first(
            provider=provider, external_id=state.id, price_id=state.price_id
        )
    else:
        link = SUBSCRIPTION_LINK.first(provider=provider, external_id=state.id)
    if link is not None:
        pricing_id = getattr(link, "event_pricing_id", None)
    else:
        pricing_id = _pricing_id(provider, state.price_id)
    if link is not None:
        subscription = link.subscription
        # A subscription not ended yet has seen no ending event: its ending wins a tie in time
        # without the last event being read.
        ended = subscription.ended_at is not None or subscription.status in ENDED_STATUSES
        ending_rank = None if ended else EventKind.SUBSCRIPTION_ENDED.rank
        if not is_newer(event, link, last_rank_below=ending_rank):
            return EventResult(note="Older than the state already applied.")
        previous = {f: getattr(subscription, f) for f in SUBSCRIPTION_FIELDS}
        for name, value in subscription_values(state, pricing_id).items():
            setattr(subscription, name, value)
        subscription.note_status_change(previous["status"], event.created)
        changed = [f for f in SUBSCRIPTION_FIELDS if previous[f] != getattr(subscription, f)]
        if changed or subscription.sync_status != SyncStatus.SYNCED:
            subscription.sync_status = SyncStatus.SYNCED
            subscription.save(
                update_fields=[*changed, "past_due_since", "sync_status", "updated_at"]
            )
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
    subscription.note_status_change(None, event.created)
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
    from django_payments_sync.conf import get_adapter

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
