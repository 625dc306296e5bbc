"""What the library sends a backend: the data of each object it creates or changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django_payments_sync.backends.types.common import (
    Address,
)

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
    #: The provider's meter of a metered price (``Capability.METERS``; recurring only): it is
    #: billed at the period's end for the usage that meter counted, ``amount`` per unit.
    meter_id: str | None = None


@dataclass(frozen=True)
class SubscriptionData:
    local_id: str
    customer_id: str  # the provider's customer id
    price_id: str  # the provider's price id
    quantity: int = 1
    #: A metered price: no quantity is sent (the meter's usage is the quantity).
    metered: bool = False
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
    #: A metered price: no quantity is sent (the meter's usage is the quantity).
    metered: bool = False


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
class MeterData:
    local_id: str
    display_name: str
    event_name: str
    aggregation: str  # "sum" | "count" | "last"


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
