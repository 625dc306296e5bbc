"""Events in the library's vocabulary: their kinds, ranks, ordering keys, and the neutral event."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django_payments_sync.backends.types.objects import (
    CheckoutSession,
    ProviderCustomer,
    ProviderEntitlements,
    ProviderInvoice,
    ProviderPayment,
    ProviderPrice,
    ProviderProduct,
    ProviderRefund,
    ProviderSubscription,
    ProviderTaxId,
)

_T = TypeVar("_T")


class EventKind(enum.StrEnum):
    """What happened, in the library's own words (as django-anymail's ``EventType``).

    Each backend maps its provider's event types to these in ``parse_event``; the handlers are
    registered by kind, so nothing outside a backend names a provider's event types.
    """

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_DELETED = "customer.deleted"
    TAX_ID_CREATED = "tax_id.created"
    TAX_ID_UPDATED = "tax_id.updated"
    TAX_ID_DELETED = "tax_id.deleted"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    PRICE_CREATED = "price.created"
    PRICE_UPDATED = "price.updated"
    PRICE_DELETED = "price.deleted"
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_UPDATED = "subscription.updated"
    SUBSCRIPTION_TRIAL_ENDING = "subscription.trial_ending"
    SUBSCRIPTION_PAUSED = "subscription.paused"
    SUBSCRIPTION_RESUMED = "subscription.resumed"
    SUBSCRIPTION_ENDED = "subscription.ended"
    INVOICE_CREATED = "invoice.created"
    INVOICE_FINALIZED = "invoice.finalized"
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
    INVOICE_PAID = "invoice.paid"
    #: A second notice of a payment (Stripe sends ``invoice.payment_succeeded`` beside
    #: ``invoice.paid``): recorded, never signalled twice.
    INVOICE_PAYMENT_SUCCEEDED = "invoice.payment_succeeded"
    #: The payment needs the customer: authentication (3-D Secure) on the hosted invoice page.
    INVOICE_PAYMENT_ACTION_REQUIRED = "invoice.payment_action_required"
    INVOICE_UPDATED = "invoice.updated"
    INVOICE_VOIDED = "invoice.voided"
    INVOICE_MARKED_UNCOLLECTIBLE = "invoice.marked_uncollectible"
    CHECKOUT_COMPLETED = "checkout.completed"
    CHECKOUT_PAYMENT_SUCCEEDED = "checkout.payment_succeeded"
    CHECKOUT_PAYMENT_FAILED = "checkout.payment_failed"
    CHECKOUT_EXPIRED = "checkout.expired"
    #: A refund was made (from anywhere: the library, the provider's dashboard).
    REFUND_CREATED = "refund.created"
    #: A refund changed: it succeeded, failed or was canceled.
    REFUND_UPDATED = "refund.updated"
    #: A payment was refunded in full or in part (the object: a ProviderPayment).
    PAYMENT_REFUNDED = "payment.refunded"
    #: A payment (an off-session charge) succeeded or failed (the object: a ProviderPayment).
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    #: The features the provider grants a customer changed (the object: ProviderEntitlements).
    ENTITLEMENTS_UPDATED = "entitlements.updated"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """The order of events of one change within one provider second (see ``KIND_RANKS``)."""
        return KIND_RANKS.get(self, UNKNOWN_RANK)


#: Events with the same provider time are applied in this order: the order a provider emits
#: them for one change (provider times have one-second resolution); unknown kinds come after
#: the subscription's updates and before the deletions.
KIND_RANKS: dict[EventKind, int] = {
    EventKind.CUSTOMER_CREATED: 0,
    EventKind.PRODUCT_CREATED: 0,
    EventKind.PRICE_CREATED: 5,
    EventKind.CUSTOMER_UPDATED: 10,
    EventKind.PRODUCT_UPDATED: 10,
    EventKind.PRICE_UPDATED: 15,
    EventKind.TAX_ID_CREATED: 20,
    EventKind.TAX_ID_UPDATED: 21,
    EventKind.TAX_ID_DELETED: 22,
    EventKind.SUBSCRIPTION_CREATED: 30,
    EventKind.INVOICE_CREATED: 40,
    EventKind.INVOICE_FINALIZED: 41,
    EventKind.INVOICE_UPDATED: 41,
    # A payment waiting for authentication is announced, then reported failed.
    EventKind.INVOICE_PAYMENT_ACTION_REQUIRED: 42,
    EventKind.INVOICE_PAYMENT_FAILED: 43,
    EventKind.INVOICE_PAID: 44,
    EventKind.INVOICE_PAYMENT_SUCCEEDED: 45,
    EventKind.INVOICE_VOIDED: 46,
    EventKind.INVOICE_MARKED_UNCOLLECTIBLE: 46,
    EventKind.SUBSCRIPTION_UPDATED: 50,
    EventKind.SUBSCRIPTION_TRIAL_ENDING: 51,
    EventKind.SUBSCRIPTION_PAUSED: 52,
    EventKind.SUBSCRIPTION_RESUMED: 53,
    EventKind.CHECKOUT_COMPLETED: 60,
    EventKind.CHECKOUT_PAYMENT_SUCCEEDED: 61,
    EventKind.CHECKOUT_PAYMENT_FAILED: 61,
    EventKind.CHECKOUT_EXPIRED: 62,
    EventKind.REFUND_CREATED: 63,
    EventKind.PAYMENT_REFUNDED: 64,
    EventKind.REFUND_UPDATED: 65,
    EventKind.PAYMENT_SUCCEEDED: 61,
    EventKind.PAYMENT_FAILED: 61,
    EventKind.SUBSCRIPTION_ENDED: 70,
    # The provider recomputes a customer's entitlements after the subscription's change.
    EventKind.ENTITLEMENTS_UPDATED: 71,
    EventKind.PRICE_DELETED: 75,
    EventKind.PRODUCT_DELETED: 80,
    EventKind.CUSTOMER_DELETED: 90,
}
UNKNOWN_RANK = 55

#: Kinds about the catalog (products and prices), which concern no customer.
CATALOG_KINDS = frozenset(
    {
        EventKind.PRODUCT_CREATED,
        EventKind.PRODUCT_UPDATED,
        EventKind.PRODUCT_DELETED,
        EventKind.PRICE_CREATED,
        EventKind.PRICE_UPDATED,
        EventKind.PRICE_DELETED,
    }
)

#: Ordering key of catalog events.
CATALOG_KEY = "catalog"


def ordering_key_of(
    customer_id: str | None, object_type: str, object_id: str, *, catalog: bool = False
) -> str:
    """The usual ordering key: the customer an event concerns (so a customer's subscription
    never overtakes the customer), one key for the catalog, else the object itself."""
    if customer_id:
        return f"customer:{customer_id}"
    if catalog:
        return CATALOG_KEY
    return f"{object_type}:{object_id}"


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event, parsed into provider-neutral terms by its backend.

    ``kind`` says what happened and ``data`` is the event's object as the neutral dataclass of
    this module (``ProviderCustomer``, ``ProviderSubscription``, ``CheckoutSession``, ...;
    ``None`` for an object the library does not read). ``ordering_key`` names what the event's
    lock and order are per (``customer:<id>``, ``catalog``, ...); ``changed`` holds the
    neutral names of the fields an update changed (``None`` when the event does not say, e.g.
    a creation). ``type``, ``object`` and ``previous_attributes`` are the provider's own words,
    kept for the log and for the backend's own tie-breaks; ``raw`` is the payload as received
    (stored for audit and replay, read again only by the backend).
    """

    provider: str
    id: str
    type: str
    created: dt.datetime
    livemode: bool
    object_type: str
    object_id: str
    object: dict[str, Any]
    previous_attributes: dict[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: EventKind = EventKind.UNKNOWN
    data: Any = None
    ordering_key: str = ""
    changed: frozenset[str] | None = None

    @property
    def rank(self) -> int:
        return self.kind.rank


NEUTRAL_OBJECT_TYPES: dict[str, type] = {
    "customer": ProviderCustomer,
    "tax_id": ProviderTaxId,
    "product": ProviderProduct,
    "price": ProviderPrice,
    "subscription": ProviderSubscription,
    "invoice": ProviderInvoice,
    "checkout.session": CheckoutSession,
    "refund": ProviderRefund,
    "payment": ProviderPayment,
    "entitlements": ProviderEntitlements,
}


def event_kind(value: str) -> EventKind:
    """The kind named ``value`` (a neutral name), ``UNKNOWN`` for any other."""
    try:
        return EventKind(value)
    except ValueError:
        return EventKind.UNKNOWN


def from_dict(cls: type[_T], data: Mapping[str, Any]) -> _T:
    """A neutral dataclass from a dict of its fields (JSON: datetimes as ISO text or epoch).

    For backends whose payloads carry the neutral types' fields as they are (the locmem
    backend); unknown keys are ignored.
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        if dt.datetime in args and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        elif dt.datetime in args and isinstance(value, int | float):
            value = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        elif isinstance(value, list) and f.name == "tax_ids":
            value = tuple(tuple(v) for v in value)
        elif isinstance(value, list) and f.name == "lookup_keys":
            value = tuple(value)
        elif isinstance(value, list) and f.name == "refunds":
            value = tuple(from_dict(ProviderRefund, v) for v in value)
        elif isinstance(value, Mapping):
            nested = [a for a in args if dataclasses.is_dataclass(a) and isinstance(a, type)]
            if nested:
                value = from_dict(nested[0], value)
        values[f.name] = value
    return cls(**values)
