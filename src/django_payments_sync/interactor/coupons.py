"""Discounts: a promotion code checked (expired, used up, not for this price) and applied at
checkout or to a subscription; the code's provider id made to exist on first need."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.interactor import provider
from django_payments_sync.models import (
    ExternalPromotionCode,
    PromotionCode,
    Subscription,
    SubscriptionDiscount,
)


def find_promotion_code(text: str) -> PromotionCode:
    """The promotion code a customer typed (case does not matter), else ``PolicyViolation``."""
    code = (
        PromotionCode.objects.select_related("coupon")
        .filter(code__iexact=str(text).strip())
        .first()
    )
    if code is None:
        raise PolicyViolation(
            f"There is no promotion code {text!r}.", code="promotion_code_unknown"
        )
    return code


def check_promotion_code(text: str, pricing: Any = None) -> PromotionCode:
    """The code, redeemable now for ``pricing``; else ``PolicyViolation`` whose ``code`` is
    ``promotion_code_unknown``, ``_inactive``, ``_expired``, ``_used_up`` or ``_not_for_price``."""
    code = find_promotion_code(text)
    refusal = code.refusal(pricing)
    if refusal is not None:
        raise PolicyViolation(refusal[1], code=refusal[0])
    return code


def promotion_code_id(code: PromotionCode) -> str:
    """The provider id of ``code``, pushing it (and its coupon) if needed."""
    backend = provider.backend()
    link = ExternalPromotionCode.objects.filter(
        provider=backend.provider_name, promotion_code=code
    ).first()
    if link is None:
        from django_payments_sync.sync.coupons import sync_promotion_code

        for result in sync_promotion_code(code, backend=backend):
            if result.error is not None:
                raise result.error
        link = ExternalPromotionCode.objects.filter(
            provider=backend.provider_name, promotion_code=code
        ).first()
    if link is None:
        raise PolicyViolation(
            "This promotion code is not available at the payment provider yet.",
            code="promotion_code_not_synced",
        )
    return link.external_id


def apply_to_subscription(subscription: Subscription, text: str) -> SubscriptionDiscount:
    """Give a live subscription the discount of a promotion code (replacing its discount)."""
    if not subscription.is_live:
        raise PolicyViolation("This subscription has ended.", code="subscription_not_live")
    code = check_promotion_code(text, subscription.pricing)
    external = provider.subscription_external_id(subscription)
    if external is None:
        raise PolicyViolation(
            "This subscription is not at the payment provider yet.",
            code="subscription_not_synced",
        )
    provider.backend().apply_promotion_code(external, promotion_code_id(code))
    with transaction.atomic():
        discount, _ = SubscriptionDiscount.objects.update_or_create(
            subscription=subscription, defaults={"promotion_code": code}
        )
    return discount


class DiscountService:
    """The interactor's discounts (``payments.discounts``)."""

    check = staticmethod(check_promotion_code)
    apply_to_subscription = staticmethod(apply_to_subscription)

    def push(self) -> list[Any]:
        """Push every coupon and promotion code (diff-based: unchanged rows cost nothing)."""
        from django_payments_sync.sync.coupons import push_discounts

        return push_discounts()
