"""Coupons (a discount's terms) and promotion codes (what a customer types), owned by the host
and pushed to the provider like products and prices."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_payments_sync.conf import product_model_name
from django_payments_sync.models.base import ExternalPaymentProvider, SyncedModel


class CouponDuration(models.TextChoices):
    ONCE = "once", _("Once")
    REPEATING = "repeating", _("Repeating")
    FOREVER = "forever", _("Forever")


class Coupon(SyncedModel):
    """A discount: a percentage or an amount off, for how long, until when, how often, on what.

    Providers keep a coupon's terms immutable: changed terms are pushed as a new provider
    coupon and the old one deleted there (discounts already given keep running)."""

    name = models.CharField(_("name"), max_length=40, help_text=_("Shown to the customer."))
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    amount_off = models.PositiveBigIntegerField(
        _("amount off (minor units)"), null=True, blank=True
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        default="",
        validators=[RegexValidator(r"^[a-z]{3}$", _("A lower-case ISO 4217 code, e.g. 'eur'."))],
        help_text=_("Of amount off."),
    )
    duration = models.CharField(
        _("duration"), max_length=16, choices=CouponDuration.choices, default=CouponDuration.ONCE
    )
    duration_in_months = models.PositiveSmallIntegerField(
        _("duration in months"), null=True, blank=True, help_text=_("For a repeating coupon.")
    )
    max_redemptions = models.PositiveIntegerField(_("max redemptions"), null=True, blank=True)
    redeem_by = models.DateTimeField(_("redeem by"), null=True, blank=True)
    products: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        product_model_name(),
        verbose_name=_("applies to"),
        blank=True,
        related_name="coupons",
        help_text=_("Empty: every product."),
    )
    active = models.BooleanField(_("active"), default=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")

    def __str__(self) -> str:
        return f"{self.name} ({self.describe()})"

    def describe(self) -> str:
        if self.percent_off is not None:
            off = f"{self.percent_off.normalize():f}% off"
        else:
            off = f"{(self.amount_off or 0) / 100:.2f} {self.currency.upper()} off"
        if self.duration == CouponDuration.REPEATING:
            return f"{off} for {self.duration_in_months} months"
        return f"{off} {self.get_duration_display().lower()}"

    def clean(self) -> None:
        super().clean()
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValidationError(_("Give either a percentage or an amount off."))
        if self.amount_off is not None and not self.currency:
            raise ValidationError({"currency": _("An amount off needs its currency.")})
        if (self.duration == CouponDuration.REPEATING) != bool(self.duration_in_months):
            raise ValidationError(
                {"duration_in_months": _("Months are for (and needed by) a repeating coupon.")}
            )

    def amount_of_discount(self, amount: int) -> int:
        """The discount on ``amount`` (minor units) in the same currency."""
        if self.percent_off is not None:
            return int((Decimal(amount) * self.percent_off / 100).quantize(Decimal("1")))
        return min(int(self.amount_off or 0), amount)


class PromotionCode(SyncedModel):
    """A code customers type for a coupon (``SUMMER25``), with limits of its own."""

    coupon = models.ForeignKey(
        Coupon, verbose_name=_("coupon"), on_delete=models.CASCADE, related_name="promotion_codes"
    )
    code = models.CharField(
        _("code"),
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", _("Letters, digits, - and _ only."))],
        help_text=_("What the customer types; compared without regard to case."),
    )
    active = models.BooleanField(_("active"), default=True)
    max_redemptions = models.PositiveIntegerField(_("max redemptions"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("promotion code")
        verbose_name_plural = _("promotion codes")

    def __str__(self) -> str:
        return self.code

    def refusal(self, pricing: Any = None, *, now: Any = None) -> tuple[str, str] | None:
        """Why this code cannot be redeemed (for ``pricing``): ``(code, message)``, else None."""
        from django_payments_sync.models.orders import Order, OrderStatus

        now = now or timezone.now()
        coupon = self.coupon
        if not (self.active and coupon.active):
            return "promotion_code_inactive", f"The code {self.code} is no longer valid."
        ends = [t for t in (self.expires_at, coupon.redeem_by) if t is not None]
        if ends and now >= min(ends):
            return "promotion_code_expired", f"The code {self.code} has expired."
        used = Order.objects.filter(
            promotion_code__coupon=coupon,
            status__in=[OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED],
        )
        if (
            self.max_redemptions is not None
            and used.filter(promotion_code=self).count() >= self.max_redemptions
        ):
            return "promotion_code_used_up", f"The code {self.code} has been used up."
        if coupon.max_redemptions is not None and used.count() >= coupon.max_redemptions:
            return "promotion_code_used_up", f"The code {self.code} has been used up."
        if pricing is not None:
            products = list(coupon.products.values_list("pk", flat=True))
            return self.price_refusal(pricing.product_id, pricing.currency, products)
        return None

    def price_refusal(
        self, product_id: Any, currency: str, products: list[Any]
    ) -> tuple[str, str] | None:
        """Why this code is not for a price of ``product_id`` in ``currency`` (``products``:
        the coupon's, none for every product), else None."""
        coupon = self.coupon
        if products and product_id not in products:
            return "promotion_code_not_for_price", f"The code {self.code} is not for this plan."
        if coupon.amount_off is not None and coupon.currency != currency:
            return (
                "promotion_code_not_for_price",
                f"The code {self.code} is for prices in {coupon.currency.upper()}.",
            )
        return None


class SubscriptionDiscount(models.Model):
    """The promotion code applied to a subscription (``POST subscriptions/<id>/discount/``)."""

    subscription = models.OneToOneField(
        "django_payments_sync.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="discount",
    )
    promotion_code = models.ForeignKey(
        PromotionCode,
        verbose_name=_("promotion code"),
        on_delete=models.PROTECT,
        related_name="subscription_discounts",
    )
    applied_at = models.DateTimeField(_("applied at"), auto_now=True)

    class Meta:
        verbose_name = _("subscription discount")
        verbose_name_plural = _("subscription discounts")

    def __str__(self) -> str:
        return f"{self.promotion_code} on {self.subscription_id}"

    @property
    def ends_at(self) -> dt.datetime | None:
        """When a repeating coupon's months are over (``None``: once, or forever)."""
        coupon = self.promotion_code.coupon
        if coupon.duration != CouponDuration.REPEATING or not coupon.duration_in_months:
            return None
        return add_months(self.applied_at, coupon.duration_in_months)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` moved on by ``months``, the day clamped to the month's end (as providers)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


class ExternalCoupon(ExternalPaymentProvider):
    coupon = models.ForeignKey(
        Coupon, verbose_name=_("coupon"), on_delete=models.CASCADE, related_name="external_coupons"
    )

    class Meta:
        verbose_name = _("external coupon")
        verbose_name_plural = _("external coupons")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extcoupon_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "coupon"], name="payments_sync_extcoupon_one"
            ),
        ]


class ExternalPromotionCode(ExternalPaymentProvider):
    promotion_code = models.ForeignKey(
        PromotionCode,
        verbose_name=_("promotion code"),
        on_delete=models.CASCADE,
        related_name="external_promotion_codes",
    )

    class Meta:
        verbose_name = _("external promotion code")
        verbose_name_plural = _("external promotion codes")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extpromo_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "promotion_code"], name="payments_sync_extpromo_one"
            ),
        ]
