"""The neutral types' foundations: our metadata keys, the capabilities, an address."""

from __future__ import annotations

import enum
from dataclasses import dataclass

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
    #: Entitlement features on products, and the customer's active entitlements pushed back
    #: by the provider (Stripe Entitlements).
    ENTITLEMENTS = "entitlements"


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    state: str = ""
    country: str = ""
