"""The in-memory backend's state, call record, idempotency and events, shared by its parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Mapping
from typing import Any, TypeVar

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    CheckoutSession,
    EventKind,
    MeterEventData,
    PortalSession,
    ProviderCustomer,
    ProviderEvent,
    ProviderInvoice,
    ProviderMeter,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
    WebhookEndpoint,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
    ProviderError,
)

#: Header carrying the signature of a locmem webhook: ``t=<unix time>,v1=<hex HMAC-SHA256>``.
SIGNATURE_HEADER = "X-Payments-Sync-Signature"

#: Operations that change provider state (the ones a "zero write calls" assertion counts).
WRITE_OPERATIONS = frozenset(
    {
        "create_customer",
        "update_customer",
        "delete_customer",
        "set_tax_exemption",
        "add_tax_id",
        "delete_tax_id",
        "create_product",
        "update_product",
        "archive_product",
        "create_price",
        "archive_price",
        "update_price_metadata",
        "create_subscription",
        "update_subscription",
        "cancel_subscription",
        "create_checkout_session",
        "create_portal_session",
        "create_refund",
        "create_payment",
        "create_coupon",
        "update_coupon",
        "delete_coupon",
        "create_promotion_code",
        "update_promotion_code",
        "apply_promotion_code",
        "create_meter",
        "deactivate_meter",
        "send_meter_event",
        "create_entitlement_feature",
        "attach_product_feature",
        "detach_product_feature",
        "create_webhook_endpoint",
        "delete_webhook_endpoint",
    }
)

_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class LocmemCall:
    """One operation called on a :class:`LocmemBackend`, for assertions in tests."""

    operation: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def is_write(self) -> bool:
        return self.operation in WRITE_OPERATIONS


def sign_locmem_payload(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for ``body``, as :class:`LocmemBackend` verifies it."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class LocmemState(BaseBackend):
    """What every part of :class:`~django_payments_sync.backends.locmem.LocmemBackend` works on."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.reset()

    # --- test helpers ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every object, call, event and pending failure."""
        self._ids = itertools.count(1)
        self.customers: dict[str, ProviderCustomer] = {}
        self.deleted_customers: set[str] = set()
        self.tax_ids: dict[str, ProviderTaxId] = {}
        self.products: dict[str, ProviderProduct] = {}
        self.prices: dict[str, ProviderPrice] = {}
        self.subscriptions: dict[str, ProviderSubscription] = {}
        self.checkout_sessions: dict[str, CheckoutSession] = {}
        self.portal_sessions: dict[str, PortalSession] = {}
        self.invoices: dict[str, ProviderInvoice] = {}
        self.webhook_endpoints: dict[str, WebhookEndpoint] = {}
        self.meters: dict[str, ProviderMeter] = {}
        #: meter id -> its aggregation ("sum", "count" or "last")
        self.meter_aggregations: dict[str, str] = {}
        #: identifier -> the event counted under it
        self.meter_events: dict[str, MeterEventData] = {}
        self.calls: list[LocmemCall] = []
        self.events: list[ProviderEvent] = []
        self._idempotency: dict[tuple[str, str], tuple[str, Any]] = {}
        self._failures: dict[str, list[ProviderError]] = {}

    def _usage(
        self, price: ProviderPrice, customer_id: str, start: dt.datetime, end: dt.datetime
    ) -> int:
        """What the meter of a metered ``price`` counted for a customer in ``[start, end)``,
        as the meter aggregates (0 for a licensed price's meter, which it has not)."""
        meter = self.meters.get(price.meter_id or "")
        if meter is None:
            return 0
        values = [
            e.value
            for e in sorted(self.meter_events.values(), key=lambda e: e.timestamp)
            if e.event_name == meter.event_name
            and e.customer_id == customer_id
            and start <= e.timestamp < end
        ]
        aggregation = self.meter_aggregations.get(meter.id, "sum")
        if aggregation == "count":
            return len(values)
        if aggregation == "last":
            return values[-1] if values else 0
        return sum(values)

    @property
    def write_calls(self) -> list[LocmemCall]:
        return [c for c in self.calls if c.is_write]

    def calls_to(self, operation: str) -> list[LocmemCall]:
        return [c for c in self.calls if c.operation == operation]

    def fail_next(self, operation: str, error: ProviderError, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` raise ``error`` (changing nothing)."""
        self._failures.setdefault(operation, []).extend([error] * times)

    def pop_events(self) -> list[ProviderEvent]:
        events, self.events = self.events, []
        return events

    def signed_request(self, event: ProviderEvent) -> tuple[bytes, dict[str, str]]:
        """A webhook body and headers for ``event`` that :meth:`verify_webhook` accepts."""
        body = json.dumps(event.raw, sort_keys=True).encode()
        return body, {SIGNATURE_HEADER: sign_locmem_payload(body, self.options["webhook_secret"])}

    # --- internals ------------------------------------------------------------------------
    def _record(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.calls.append(LocmemCall(operation, args, kwargs))
        pending = self._failures.get(operation)
        if pending:
            raise pending.pop(0)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_locmem{next(self._ids):06d}"

    def _get(self, table: dict[str, _T], object_id: str, label: str) -> _T:
        try:
            return table[object_id]
        except KeyError:
            raise ObjectNotFound(f"No such {label}: {object_id!r}") from None

    def _idempotent(self, key: str | None, operation: str, request: Any) -> Any | None:
        """The earlier answer to this key, if any; a reused key with other params is an error."""
        if not key:
            return None
        seen = self._idempotency.get((operation, key))
        if seen is None:
            return None
        earlier_request, answer = seen
        if earlier_request != repr(request):
            raise PermanentProviderError(
                f"Idempotency key {key!r} was already used with other parameters.",
                code="idempotency_error",
            )
        return answer

    def _remember(self, key: str | None, operation: str, request: Any, answer: Any) -> None:
        if key:
            self._idempotency[(operation, key)] = (repr(request), answer)

    def _emit(
        self,
        event_type: EventKind,
        object_type: str,
        obj: Any,
        customer_id: str | None,
        previous: Mapping[str, Any] | None = None,
    ) -> ProviderEvent:
        payload = {**_jsonable(obj), "object": object_type}
        event_id = self._new_id("evt")
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        raw = {
            "id": event_id,
            "type": str(event_type),
            "created": int(created.timestamp()),
            "livemode": False,
            "customer": customer_id,
            "data": {"object": payload, "previous_attributes": _jsonable(dict(previous or {}))},
        }
        event = self.parse_event(raw)
        self.events.append(event)
        return event

    @staticmethod
    def _with_identity(local_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        identity = {METADATA_ID_KEY: local_id} if local_id else {}
        return {**metadata, **identity}

    def _discount(self, sub: ProviderSubscription, amount: int, *, use: bool) -> int:
        """What the subscription's discount takes off an invoice of ``amount`` (its price's
        currency); ``use`` counts that invoice against the discount's duration, a preview
        does not. None here: the coupons part gives the discounts."""
        return 0

    def _end_subscription(self, sub: ProviderSubscription) -> ProviderSubscription:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        ended = dataclasses.replace(sub, status="canceled", canceled_at=now, ended_at=now)
        self.subscriptions[sub.id] = ended
        self._emit(EventKind.SUBSCRIPTION_ENDED, "subscription", ended, sub.customer_id)
        return ended


def _changed(old: Any, new: Any) -> dict[str, Any]:
    """The fields of ``old`` that ``new`` changed, as a provider's ``previous_attributes``."""
    return {
        f.name: getattr(old, f.name)
        for f in dataclasses.fields(old)
        if getattr(old, f.name) != getattr(new, f.name)
    }


def _period(price: ProviderPrice) -> dt.timedelta:
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[price.interval or "month"]
    return dt.timedelta(days=days * price.interval_count)
