"""What a backend answers: the provider's objects, in the library's terms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django_payments_sync.backends.types.common import (
    Address,
)

# --- What we get back ---------------------------------------------------------------------


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
class ProviderMeter:
    id: str
    event_name: str
    active: bool


@dataclass(frozen=True)
class ProviderFeature:
    """A provider's entitlement feature (Stripe: ``entitlements.feature``), keyed by the
    local feature name (``lookup_key``)."""

    id: str
    lookup_key: str
    name: str = ""
    active: bool = True


@dataclass(frozen=True)
class ProviderProductFeature:
    """A feature attached to a provider product (Stripe: ``product_feature``)."""

    id: str
    feature_id: str
    lookup_key: str


@dataclass(frozen=True)
class ProviderEntitlements:
    """A customer's active entitlements at the provider (the features their subscriptions
    grant there; Stripe: ``entitlements.active_entitlement_summary``)."""

    customer_id: str
    lookup_keys: tuple[str, ...] = ()


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
    #: The provider's meter of a metered price, ``None`` for a licensed or one-time one.
    meter_id: str | None = None


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
    #: What discounts took off ``subtotal`` (Stripe: the sum of ``total_discount_amounts``).
    amount_discount: int = 0


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
    #: What discounts take off this line's ``amount``.
    amount_discount: int = 0


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
    #: What discounts take off ``subtotal`` (``total`` is after them).
    amount_discount: int = 0


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
