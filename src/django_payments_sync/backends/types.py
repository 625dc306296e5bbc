"""Provider-neutral data types that cross the backend boundary (never provider SDK objects)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")

#: Metadata key holding the local primary key of the row a provider object mirrors.
METADATA_ID_KEY = "payments_sync_id"
#: Metadata key holding the ``app_label.model`` of that row, so events link back to the right table.
METADATA_MODEL_KEY = "payments_sync_model"
#: Metadata keys a checkout session carries, so its events lead back to our rows.
METADATA_ORDER_KEY = "payments_sync_order"
METADATA_ATTEMPT_KEY = "payments_sync_payment_attempt"
METADATA_PRICING_KEY = "payments_sync_pricing"


class Capability(enum.StrEnum):
    """Groups of operations a backend may support."""

    CUSTOMERS = "customers"
    TAX_IDS = "tax_ids"
    PRODUCTS = "products"
    PRICES = "prices"
    SUBSCRIPTIONS = "subscriptions"
    CHECKOUT = "checkout"
    PORTAL = "portal"
    WEBHOOKS = "webhooks"
    WEBHOOK_ENDPOINTS = "webhook_endpoints"
    INVOICES = "invoices"
    RETRIEVE = "retrieve"
    #: What a change of price or quantity would invoice, without changing anything.
    SUBSCRIPTION_PREVIEW = "subscription_preview"
    #: Pausing a subscription's payment collection and resuming it.
    SUBSCRIPTION_PAUSE = "subscription_pause"
    REFUNDS = "refunds"
    #: One-off charges of a customer's saved payment method (off-session).
    PAYMENTS = "payments"
    #: Coupons and promotion codes, at checkout and on subscriptions.
    DISCOUNTS = "discounts"
    #: Usage meters and their events (usage-based billing).
    METERS = "meters"


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    state: str = ""
    country: str = ""


# --- What we send -------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerData:
    """A local customer as the provider should hold it. ``local_id`` goes into metadata."""

    local_id: str
    email: str
    name: str = ""
    address: Address | None = None
    tax_exemption: str = "none"  # "none" | "exempt" | "reverse"
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaxIdData:
    type: str  # e.g. "eu_vat"
    value: str  # with country prefix, e.g. "DE123456789"


@dataclass(frozen=True)
class ProductData:
    local_id: str
    name: str
    description: str = ""
    active: bool = True
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceData:
    """Terms of a price. Providers keep prices immutable: changed terms mean a new price."""

    local_id: str
    product_id: str  # the provider's product id
    amount: int  # minor units
    currency: str  # lower-case ISO 4217
    interval: str | None = None  # "day" | "week" | "month" | "year"; None for one-time
    interval_count: int = 1
    active: bool = True
    nickname: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionData:
    local_id: str
    customer_id: str  # the provider's customer id
    price_id: str  # the provider's price id
    quantity: int = 1
    trial_period_days: int | None = None
    default_payment_method: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutData:
    """A hosted checkout for one price; ``mode`` is "subscription" or "payment".

    A one-time charge of an ad-hoc amount has no ``price_id`` (``""``) but ``amount`` (minor
    units, per unit), ``currency`` and ``description`` (what the customer sees)."""

    mode: str
    price_id: str
    quantity: int
    success_url: str
    cancel_url: str
    customer_id: str | None = None
    customer_email: str | None = None
    client_reference_id: str | None = None
    trial_period_days: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    amount: int | None = None
    currency: str = ""
    description: str = ""
    #: A provider promotion code to apply, or let the customer type one on the provider's page.
    promotion_code_id: str | None = None
    allow_promotion_codes: bool = False


@dataclass(frozen=True)
class CouponData:
    """A coupon's terms (immutable at providers: new terms mean a new coupon)."""

    local_id: str
    name: str
    duration: str  # "once" | "repeating" | "forever"
    percent_off: str | None = None  # a decimal number as text, e.g. "25.5"
    amount_off: int | None = None
    currency: str = ""
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    redeem_by: dt.datetime | None = None
    product_ids: tuple[str, ...] = ()  # the provider's products it applies to; () for all
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PromotionCodeData:
    local_id: str
    coupon_id: str  # the provider's coupon id
    code: str
    active: bool = True
    max_redemptions: int | None = None
    expires_at: dt.datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderCoupon:
    id: str
    name: str
    valid: bool
    times_redeemed: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderPromotionCode:
    id: str
    code: str
    coupon_id: str
    active: bool
    times_redeemed: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MeterData:
    local_id: str
    display_name: str
    event_name: str
    aggregation: str  # "sum" | "count" | "last"


@dataclass(frozen=True)
class ProviderMeter:
    id: str
    event_name: str
    active: bool


@dataclass(frozen=True)
class MeterEventData:
    """One usage event: ``value`` of ``event_name``'s meter for a provider customer, at
    ``timestamp``; the provider counts one ``identifier`` once."""

    event_name: str
    customer_id: str
    value: int
    timestamp: dt.datetime
    identifier: str


@dataclass(frozen=True)
class PaymentData:
    """A one-off charge of ``amount`` (minor units) to the customer's saved payment method,
    off-session (the customer is not there to confirm it)."""

    customer_id: str
    amount: int
    currency: str
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


# --- What we get back ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderCustomer:
    id: str
    email: str
    name: str
    tax_exemption: str
    address: Address | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    created: dt.datetime | None = None
    #: ``(type, value)`` of its tax ids when the read included them, ``None`` when it did not.
    tax_ids: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class ProviderTaxId:
    id: str
    customer_id: str
    type: str
    value: str
    #: The provider's verification as a :class:`~django_payments_sync.choices.VatStatus` value:
    #: ``pending``, ``valid``, ``invalid`` or ``unavailable``.
    verification_status: str


@dataclass(frozen=True)
class ProviderProduct:
    id: str
    name: str
    description: str
    active: bool
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderPrice:
    id: str
    product_id: str
    amount: int
    currency: str
    interval: str | None
    interval_count: int
    active: bool
    nickname: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSubscription:
    id: str
    customer_id: str
    status: str
    price_id: str
    quantity: int
    item_id: str = ""
    current_period_start: dt.datetime | None = None
    current_period_end: dt.datetime | None = None
    trial_end: dt.datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    #: ``""`` while payments are collected; else what happens to invoices meanwhile
    #: (``"keep_as_draft"``, ``"mark_uncollectible"``, ``"void"``).
    pause_behavior: str = ""
    resumes_at: dt.datetime | None = None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    mode: str
    status: str  # "open" | "complete" | "expired"
    payment_status: str  # "paid" | "unpaid" | "no_payment_required"
    customer_id: str | None = None
    customer_email: str | None = None
    subscription_id: str | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    #: The name the customer gave on the provider's checkout page, if any.
    customer_name: str = ""
    #: The provider's payment of a paid one-time checkout (Stripe: its payment intent), which a
    #: refund names.
    payment_id: str | None = None


@dataclass(frozen=True)
class PortalSession:
    id: str
    url: str
    customer_id: str
    return_url: str


@dataclass(frozen=True)
class ProviderInvoice:
    id: str
    customer_id: str
    subscription_id: str | None
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    created: dt.datetime | None = None
    number: str = ""
    billing_reason: str = ""
    subtotal: int = 0
    tax: int = 0
    total: int = 0
    amount_remaining: int = 0
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    attempt_count: int = 0
    next_payment_attempt: dt.datetime | None = None


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice (or of a preview): what it bills, for which period."""

    description: str
    amount: int
    quantity: int
    proration: bool = False
    price_id: str = ""
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


@dataclass(frozen=True)
class InvoicePreview:
    """What the next invoice of a subscription would be after a change (nothing is changed)."""

    currency: str
    subtotal: int
    tax: int
    total: int
    amount_due: int
    lines: tuple[InvoiceLine, ...]
    #: When that invoice is issued: now for an invoice the change bills at once, else the
    #: period's end.
    date: dt.datetime | None = None


@dataclass(frozen=True)
class RefundData:
    """A refund of one provider payment: ``amount`` in minor units, ``None`` for all that is
    left; ``reason`` one of ``REFUND_REASONS`` or empty."""

    payment_id: str
    amount: int | None = None
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


#: The reasons a refund may give (Stripe's).
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


@dataclass(frozen=True)
class ProviderRefund:
    """A refund at the provider; ``status`` is "pending", "succeeded", "failed" or "canceled"."""

    id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    customer_id: str | None = None
    reason: str = ""
    failure_reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    created: dt.datetime | None = None


@dataclass(frozen=True)
class ProviderPayment:
    """A payment at the provider (Stripe: a charge of a payment intent), with what of it was
    refunded and the refunds it lists (the newest, as far as the provider sends them)."""

    id: str
    payment_id: str
    amount: int
    amount_refunded: int
    currency: str
    refunded: bool
    customer_id: str | None = None
    refunds: tuple[ProviderRefund, ...] = ()
    #: "succeeded", "processing", "requires_action" or "failed".
    status: str = "succeeded"
    failure_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    secret: str | None  # only returned at creation
    enabled_events: tuple[str, ...] = ()
    status: str = "enabled"


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
        elif isinstance(value, list) and f.name == "refunds":
            value = tuple(from_dict(ProviderRefund, v) for v in value)
        elif isinstance(value, Mapping):
            nested = [a for a in args if dataclasses.is_dataclass(a) and isinstance(a, type)]
            if nested:
                value = from_dict(nested[0], value)
        values[f.name] = value
    return cls(**values)


#: The neutral type of each object type a neutral payload names (``"object"``).
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
}


def event_kind(value: str) -> EventKind:
    """The kind named ``value`` (a neutral name), ``UNKNOWN`` for any other."""
    try:
        return EventKind(value)
    except ValueError:
        return EventKind.UNKNOWN
