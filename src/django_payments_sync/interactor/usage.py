"""Usage-based billing: ``payments.record_usage()`` writes a local outbox row (cheap, on the
request path); :func:`send_usage` drains the outbox in order off it (the ``send_usage_events``
task, or ``payments_sync usage send``), so a provider outage loses nothing and, since every event
carries its identifier, counts nothing twice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.base import Capability
from django_payments_sync.backends.types import MeterEventData
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import PolicyViolation, ProviderError
from django_payments_sync.models import (
    Customer,
    ExternalMeter,
    Meter,
    Subscription,
    UsageEvent,
    UsageEventStatus,
)
from django_payments_sync.webhooks.tasks import _as_task

#: The statuses of a subscription whose period counts usage.
LIVE = ("active", "trialing", "past_due")
#: The lock that keeps one drainer at a time, so events leave in order.
OUTBOX_LOCK = "usage:outbox"


def _require_meters() -> None:
    """Refuse, before anything is written or read, when the configured backend has no usage
    meters (``Capability.METERS``, e.g. Paddle): the usage could never be sent."""
    backend = get_backend()
    if not backend.supports(Capability.METERS):
        raise backend._unsupported("usage meters (Capability.METERS)")


def _meter(meter: Meter | str) -> Meter:
    if isinstance(meter, Meter):
        return meter
    found = Meter.objects.filter(event_name=meter, active=True).first()
    if found is None:
        raise PolicyViolation(f"There is no active meter {meter!r}.", code="meter_unknown")
    return found


def record_usage(
    owner: Any,
    meter: Meter | str,
    quantity: int,
    timestamp: dt.datetime | None = None,
    identifier: str | None = None,
) -> UsageEvent:
    """Record ``quantity`` of ``meter`` (a Meter or its event name) for ``owner``'s customer.

    Idempotent by ``identifier``: recording the same identifier again answers the first row
    (another quantity or meter under it is a ``PolicyViolation``, ``usage_conflict``). One
    insert, no provider call: the outbox is sent after commit by the ``send_usage_events`` task
    when a tasks backend runs, else by ``payments_sync usage send`` (cron). A backend without
    usage meters refuses it (``UnsupportedOperation``), with nothing recorded.
    """
    from django_payments_sync.interactor.customers import get_or_create_customer

    _require_meters()

    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise PolicyViolation(
            "A usage quantity is a whole number, 0 or more.", code="usage_quantity"
        )
    if identifier is not None and (
        not isinstance(identifier, str) or not 0 < len(identifier) <= 100
    ):
        raise PolicyViolation("An identifier is 1 to 100 characters.", code="usage_identifier")
    meter = _meter(meter)
    try:
        # The owner's reverse one-to-one: read once, then kept on the owner object.
        customer = owner.payments_customer
    except (ObjectDoesNotExist, AttributeError):
        customer = get_or_create_customer(owner)
    when = timestamp or timezone.now()
    if timezone.is_naive(when):
        raise PolicyViolation("The timestamp must be timezone-aware.", code="usage_timestamp")
    key = identifier or uuid.uuid4().hex
    try:
        with transaction.atomic():
            event = UsageEvent.objects.create(
                meter=meter, customer=customer, quantity=quantity, timestamp=when, identifier=key
            )
    except IntegrityError:
        event = UsageEvent.objects.get(identifier=key)
        if (event.meter_id, event.customer_id, event.quantity) != (
            meter.pk,
            customer.pk,
            quantity,
        ):
            raise PolicyViolation(
                f"The identifier {key!r} was recorded with other usage.", code="usage_conflict"
            ) from None
        return event
    transaction.on_commit(_enqueue_send)
    return event


def _enqueue_send() -> None:
    if hasattr(send_usage_events, "enqueue") and payments_settings.USAGE["ENQUEUE"]:
        try:
            send_usage_events.enqueue()
        except Exception:
            return


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    error: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "pending": self.pending}


def send_usage(*, limit: int | None = None) -> SendReport:
    """Send the pending usage events, oldest first, under one lock; stop at the first
    transient failure (the rest waits, in order, for the next drain). A backend without
    usage meters refuses (``UnsupportedOperation``): the events stay pending, none is lost."""
    from django_payments_sync.webhooks import locks

    _require_meters()
    backend = get_backend()
    batch = limit or payments_settings.USAGE["BATCH_SIZE"]
    report = SendReport()
    with locks.locked(OUTBOX_LOCK):
        rows = list(
            UsageEvent.objects.filter(status=UsageEventStatus.PENDING)
            .select_related("meter", "customer")
            .order_by("pk")[:batch]
        )
        links = _meter_links(backend.provider_name, {r.meter_id for r in rows})
        customers: dict[Any, str] = {}
        sent: list[Any] = []
        try:
            for row in rows:
                try:
                    if row.meter_id not in links:
                        raise PolicyViolation(
                            f"The meter {row.meter.event_name} is not at the provider."
                        )
                    backend.send_meter_event(_event_data(row, customers))
                except PolicyViolation as exc:
                    _fail(row, str(exc))
                    report.failed += 1
                    continue
                except ProviderError as exc:
                    if exc.retryable:
                        UsageEvent.objects.filter(pk=row.pk).update(
                            attempts=row.attempts + 1, last_error=str(exc)[:2000]
                        )
                        report.error = str(exc)
                        break
                    _fail(row, str(exc))
                    report.failed += 1
                    continue
                sent.append(row.pk)
        finally:
            # One write for the batch: a crash before it only sends these again, and the
            # provider counts an identifier once.
            UsageEvent.objects.filter(pk__in=sent).update(
                status=UsageEventStatus.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1
            )
        report.sent = len(sent)
    report.pending = UsageEvent.objects.filter(status=UsageEventStatus.PENDING).count()
    return report


@_as_task
def send_usage_events() -> dict[str, int]:
    """The task: send the usage outbox in order (``payments_sync usage send``); enqueued after
    each ``record_usage()`` commit when a task backend runs."""
    return send_usage().counts


def _meter_links(provider: str, meter_ids: set[Any]) -> dict[Any, str]:
    from django_payments_sync.sync.meters import sync_meter

    links = dict(
        ExternalMeter.objects.filter(provider=provider, meter_id__in=meter_ids).values_list(
            "meter_id", "external_id"
        )
    )
    for meter in Meter.objects.filter(pk__in=meter_ids - set(links), active=True):
        result = sync_meter(meter)
        if result.external_id:
            links[meter.pk] = result.external_id
    return links


def _event_data(row: UsageEvent, customers: dict[Any, str]) -> MeterEventData:
    """The event to send; each customer's provider id is looked up (or pushed) once a drain."""
    from django_payments_sync.interactor.provider import ensure_customer_id

    if row.customer_id not in customers:
        customers[row.customer_id] = ensure_customer_id(row.customer)
    return MeterEventData(
        event_name=row.meter.event_name,
        customer_id=customers[row.customer_id],
        value=row.quantity,
        timestamp=row.timestamp,
        identifier=row.identifier,
    )


def _fail(row: UsageEvent, error: str) -> None:
    UsageEvent.objects.filter(pk=row.pk).update(
        status=UsageEventStatus.FAILED, attempts=row.attempts + 1, last_error=error[:2000]
    )


def period_start(customer: Customer) -> dt.datetime:
    """Where "so far" starts: the live subscription's current period, else the month's start."""
    subscription = (
        Subscription.objects.filter(customer=customer, current_period_start__isnull=False)
        .filter(status__in=LIVE)
        .order_by("-current_period_start")
        .first()
    )
    if subscription is not None and subscription.current_period_start is not None:
        return subscription.current_period_start
    now = timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_so_far(customer: Customer) -> list[Mapping[str, Any]]:
    """Per active meter, what ``customer`` recorded since :func:`period_start` (one query for
    the totals): the sum, the count or the last quantity, as the meter aggregates."""
    since = period_start(customer)
    metered = metered_prices(customer)
    events = UsageEvent.objects.filter(
        customer=customer, timestamp__gte=since, status__in=["pending", "sent"]
    )
    sums = dict(
        events.values("meter_id").annotate(total=Sum("quantity")).values_list("meter_id", "total")
    )
    answer: list[Mapping[str, Any]] = []
    for meter in Meter.objects.filter(active=True).order_by("event_name"):
        of_meter = events.filter(meter=meter)
        if meter.aggregation == "count":
            value = of_meter.count()
        elif meter.aggregation == "last":
            last = of_meter.order_by("-timestamp", "-pk").first()
            value = last.quantity if last is not None else 0
        else:
            value = int(sums.get(meter.pk) or 0)
        pricing = metered.get(meter.pk)
        answer.append(
            {
                "meter": meter.event_name,
                "display_name": meter.display_name,
                "aggregation": meter.aggregation,
                "value": value,
                "since": since,
                "pending": of_meter.filter(status="pending").count(),
                "price": (
                    {
                        "pricing": pricing.pk,
                        "unit_amount": pricing.amount,
                        "currency": pricing.currency,
                        "estimate": value * pricing.amount,
                    }
                    if pricing is not None
                    else None
                ),
            }
        )
    return answer


def metered_prices(customer: Customer) -> dict[Any, Any]:
    """Meter pk -> the metered pricing of the customer's live subscriptions that bills it."""
    live = (
        Subscription.objects.filter(customer=customer, status__in=LIVE)
        .filter(pricing__meter__isnull=False)
        .exclude(pricing__interval="")
        .select_related("pricing")
        .order_by("-pk")
    )
    found: dict[Any, Any] = {}
    for subscription in live:
        found.setdefault(subscription.pricing.meter_id, subscription.pricing)
    return found
