"""The demo's money features, named once: the one-off item, the promotion code, the usage meter
and the feature that opens the single sign-on page; and which of them the provider offers."""

from __future__ import annotations

from decimal import Decimal

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.types import Capability

#: The one-off item (a one-time price of 49.00 EUR), refundable from the admin.
ONE_OFF_NAME = "Onboarding session"
ONE_OFF_AMOUNT = 4900
#: The promotion code the seed creates: 20% off the first payment.
PROMOTION_CODE = "WELCOME20"
PROMOTION_PERCENT_OFF = Decimal("20")
#: The usage meter: its event name (what record_usage is given) and its display name.
USAGE_METER = "api_calls"
USAGE_METER_NAME = "API calls"
#: The Business plan's feature (its metadata lists it) that /sso/ asks for.
SSO_FEATURE = "Single sign-on"


def offered() -> dict[str, bool]:
    """Which money features the configured provider's backend implements (Paddle's has no
    discounts, refunds or meters yet): the pages hide what it lacks."""
    backend = get_backend()
    return {
        "discounts": backend.supports(Capability.DISCOUNTS),
        "refunds": backend.supports(Capability.REFUNDS),
        "meters": backend.supports(Capability.METERS),
        "one_off": backend.supports(Capability.CHECKOUT),
    }
