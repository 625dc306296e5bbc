"""The public plan catalog: active products with their active prices, cached until they change."""

from __future__ import annotations

import copy
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_save

from django_payments_sync.conf import payments_settings
from django_payments_sync.models import get_pricing_model, get_product_model
from django_payments_sync.models.features import features_from_metadata

#: The cache key of the catalog. A version suffix lets a release change the shape safely.
CACHE_KEY = "django_payments_sync:plans:v2"


def build_plans() -> list[dict[str, Any]]:
    """The catalog from the database (uncached): products with at least one active price."""
    product_model = get_product_model()
    pricing_model = get_pricing_model()
    active_prices = (
        pricing_model._default_manager.filter(active=True)
        .select_related("meter")
        .order_by("amount", "interval", "pk")
    )
    with_active_price = {"pricings__active": True}  # the reverse name of Pricing.product
    products = (
        product_model._default_manager.filter(active=True, **with_active_price)
        .distinct()
        .order_by("position", "pk")
        .prefetch_related(Prefetch("pricings", queryset=active_prices, to_attr="active_pricings"))
    )
    plans = []
    for product in products:
        features, limits = features_from_metadata(product.metadata or {})
        plans.append(
            {
                "id": product.pk,
                "name": product.name,
                "description": product.description,
                "features": features,
                "limits": limits,
                "prices": [_price(pricing) for pricing in product.active_pricings],
            }
        )
    return plans


def _price(pricing: Any) -> dict[str, Any]:
    return {
        "id": pricing.pk,
        "nickname": pricing.nickname,
        "amount": pricing.amount,
        "currency": pricing.currency,
        "interval": pricing.interval or None,
        "interval_count": pricing.interval_count,
        "trial_period_days": pricing.trial_period_days,
        "min_quantity": pricing.min_quantity,
        "max_quantity": pricing.max_quantity,
        "recurring": bool(pricing.interval),
        "usage_type": pricing.usage_type if pricing.interval else None,
        "meter": (
            {"event_name": pricing.meter.event_name, "display_name": pricing.meter.display_name}
            if pricing.is_metered
            else None
        ),
        "amount_discount": 0,
        "discounted_amount": pricing.amount,
    }


def with_promotion_code(plans: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The catalog with what the coupon of promotion code ``text`` takes off each price it is
    for (the others unchanged); ``PolicyViolation`` for a code that cannot be redeemed now."""
    from django_payments_sync.interactor.coupons import check_promotion_code

    code = check_promotion_code(text)
    products = list(code.coupon.products.values_list("pk", flat=True))
    discounted = copy.deepcopy(plans)  # never the cached catalog itself
    for plan in discounted:
        for price in plan["prices"]:
            if code.price_refusal(plan["id"], price["currency"], products) is None:
                price["amount_discount"] = code.coupon.amount_of_discount(price["amount"])
                price["discounted_amount"] = price["amount"] - price["amount_discount"]
    return discounted


class PlanService:
    """Reads the catalog, from the cache while ``PLANS_CACHE_TIMEOUT`` allows."""

    def get_plans(self, promotion_code: str | None = None) -> list[dict[str, Any]]:
        """The catalog; with ``promotion_code``, each price's discounted amount under it."""
        timeout = payments_settings.PLANS_CACHE_TIMEOUT
        if not timeout:
            plans = build_plans()
        else:
            plans = cache.get(CACHE_KEY)
            if plans is None:
                plans = build_plans()
                cache.set(CACHE_KEY, plans, timeout)
        return with_promotion_code(plans, promotion_code) if promotion_code else plans

    def invalidate(self) -> None:
        cache.delete(CACHE_KEY)


def invalidate_plans_cache(**kwargs: Any) -> None:
    """Receiver: the catalog changed, so the next read rebuilds it."""
    cache.delete(CACHE_KEY)


def connect_cache_invalidation() -> None:
    """Drop the cached catalog whenever a product or a price is saved or deleted."""
    for model in (get_product_model(), get_pricing_model()):
        uid = f"payments_sync_plans_{model._meta.label_lower}"
        post_save.connect(invalidate_plans_cache, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(invalidate_plans_cache, sender=model, dispatch_uid=f"{uid}_delete")


#: The name before the design's (kept for existing imports).
PlansService = PlanService
