"""Models of django-payments-sync: abstract bases to extend, and concrete defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured

from django_payments_sync.conf import (
    customer_owner_model_name,
    pricing_model_name,
    product_model_name,
)
from django_payments_sync.models.base import (
    ExternalPaymentProvider,
    SyncedModel,
    SyncStatus,
    TimestampedModel,
)
from django_payments_sync.models.catalog import (
    AbstractPricing,
    AbstractProduct,
    ExternalPricing,
    ExternalProduct,
    Interval,
    Pricing,
    Product,
)
from django_payments_sync.models.coupons import (
    Coupon,
    CouponDuration,
    ExternalCoupon,
    ExternalPromotionCode,
    PromotionCode,
    SubscriptionDiscount,
)
from django_payments_sync.models.customers import (
    AbstractBillingInformation,
    AbstractCustomer,
    BillingInformation,
    Customer,
    ExternalCustomer,
    TaxExemption,
    VatValidationStatus,
)
from django_payments_sync.models.invoices import Invoice, InvoiceStatus
from django_payments_sync.models.meters import (
    ExternalMeter,
    Meter,
    MeterAggregation,
    UsageEvent,
    UsageEventStatus,
)
from django_payments_sync.models.orders import (
    AbstractOrder,
    AbstractPaymentAttempt,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
)
from django_payments_sync.models.refunds import COUNTED_REFUND_STATUSES, Refund, RefundStatus
from django_payments_sync.models.subscriptions import (
    ENTITLED_STATUSES,
    LIVE_SUBSCRIPTION_STATUSES,
    AbstractSubscription,
    ExternalSubscription,
    PauseBehavior,
    Subscription,
    SubscriptionStatus,
)
from django_payments_sync.models.sync import ProviderDeletion, SyncState
from django_payments_sync.models.tax import VatCheck, VatCheckStatus
from django_payments_sync.models.webhooks import WebhookEvent, WebhookEventStatus

if TYPE_CHECKING:
    from django.db.models import Model


def _get_model(label: str, setting: str) -> type[Model]:
    try:
        return django_apps.get_model(label, require_ready=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting} must be of the form 'app_label.ModelName'.") from exc
    except LookupError as exc:
        raise ImproperlyConfigured(
            f"{setting} refers to model '{label}' that has not been installed."
        ) from exc


def get_product_model() -> type[AbstractProduct]:
    """The Product model in use (``PAYMENTS_SYNC_PRODUCT_MODEL``)."""
    return _get_model(product_model_name(), "PAYMENTS_SYNC_PRODUCT_MODEL")  # type: ignore[return-value]


def get_pricing_model() -> type[AbstractPricing]:
    """The Pricing model in use (``PAYMENTS_SYNC_PRICING_MODEL``)."""
    return _get_model(pricing_model_name(), "PAYMENTS_SYNC_PRICING_MODEL")  # type: ignore[return-value]


def get_customer_owner_model() -> type[Model]:
    """The model that owns a customer (``PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL``, default the user)."""
    return _get_model(customer_owner_model_name(), "PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL")


__all__ = [
    "COUNTED_REFUND_STATUSES",
    "ENTITLED_STATUSES",
    "LIVE_SUBSCRIPTION_STATUSES",
    "AbstractBillingInformation",
    "AbstractCustomer",
    "AbstractOrder",
    "AbstractPaymentAttempt",
    "AbstractPricing",
    "AbstractProduct",
    "AbstractSubscription",
    "BillingInformation",
    "Coupon",
    "CouponDuration",
    "Customer",
    "ExternalCoupon",
    "ExternalCustomer",
    "ExternalMeter",
    "ExternalPaymentProvider",
    "ExternalPricing",
    "ExternalProduct",
    "ExternalPromotionCode",
    "ExternalSubscription",
    "Interval",
    "Invoice",
    "InvoiceStatus",
    "Meter",
    "MeterAggregation",
    "Order",
    "OrderStatus",
    "PauseBehavior",
    "PaymentAttempt",
    "PaymentAttemptStatus",
    "Pricing",
    "Product",
    "PromotionCode",
    "ProviderDeletion",
    "Refund",
    "RefundStatus",
    "Subscription",
    "SubscriptionDiscount",
    "SubscriptionStatus",
    "SyncState",
    "SyncStatus",
    "SyncedModel",
    "TaxExemption",
    "TimestampedModel",
    "UsageEvent",
    "UsageEventStatus",
    "VatCheck",
    "VatCheckStatus",
    "VatValidationStatus",
    "WebhookEvent",
    "WebhookEventStatus",
    "get_customer_owner_model",
    "get_pricing_model",
    "get_product_model",
]
