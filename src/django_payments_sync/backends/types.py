"""Provider-neutral data types that cross the backend boundary (never provider SDK objects)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

#: Metadata key holding the local primary key of the row a provider object mirrors.
METADATA_ID_KEY = "payments_sync_id"
#: Metadata key holding the ``app_label.model`` of that row, so events link back to the right table.
METADATA_MODEL_KEY = "payments_sync_model"


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
    """A hosted checkout for one price; ``mode`` is "subscription" or "payment"."""

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
    verification_status: str  # "pending" | "verified" | "unverified" | "unavailable"


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


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    secret: str | None  # only returned at creation
    enabled_events: tuple[str, ...] = ()
    status: str = "enabled"


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event, parsed into provider-neutral terms.

    ``object`` is the event's object as the provider sent it (a plain dict); ``customer_id`` is
    the provider customer it concerns (the ordering key for the per-customer lock), when known.
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
