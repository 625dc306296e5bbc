"""The catalog: products and their prices (swappable), and their links to the provider."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.conf import pricing_model_name, product_model_name
from django_payments_sync.models.base import ExternalPaymentProvider, SyncedModel


class AbstractProduct(SyncedModel):
    """Something sold. ``metadata`` carries its features or limits, shown in the plan catalog."""

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True, default="")
    active = models.BooleanField(_("active"), default=True, db_index=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


class Product(AbstractProduct):
    class Meta(AbstractProduct.Meta):
        swappable = "PAYMENTS_SYNC_PRODUCT_MODEL"


class Interval(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class AbstractPricing(SyncedModel):
    """A price of a product: an amount in minor units, recurring (with an interval) or one-time.

    Providers keep prices immutable, so a change of amount, currency or interval is pushed as a
    new provider price and the old one is archived.
    """

    product = models.ForeignKey(
        product_model_name(),
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="pricings",
    )
    nickname = models.CharField(_("nickname"), max_length=255, blank=True, default="")
    amount = models.PositiveBigIntegerField(_("amount (minor units)"))
    currency = models.CharField(
        _("currency"),
        max_length=3,
        validators=[RegexValidator(r"^[a-z]{3}$", _("A lower-case ISO 4217 code, e.g. 'eur'."))],
    )
    interval = models.CharField(
        _("interval"),
        max_length=8,
        choices=Interval.choices,
        blank=True,
        default="",
        help_text=_("Empty for a one-time price."),
    )
    interval_count = models.PositiveSmallIntegerField(
        _("interval count"), default=1, validators=[MinValueValidator(1)]
    )
    trial_period_days = models.PositiveSmallIntegerField(
        _("trial period (days)"), null=True, blank=True
    )
    min_quantity = models.PositiveIntegerField(_("minimum quantity"), default=1)
    max_quantity = models.PositiveIntegerField(_("maximum quantity"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True, db_index=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    #: A recurring price with a meter is metered: billed at the period's end for the usage
    #: the meter counted (``amount`` per unit), with no quantity of its own.
    meter = models.ForeignKey(
        "django_payments_sync.Meter",
        verbose_name=_("meter"),
        on_delete=models.PROTECT,
        related_name="pricings",
        null=True,
        blank=True,
        help_text=_("Makes a recurring price metered: amount per unit of this meter's usage."),
    )

    class Meta:
        abstract = True
        ordering = ["product", "amount", "pk"]
        verbose_name = _("pricing")
        verbose_name_plural = _("pricings")

    def __str__(self) -> str:
        amount = f"{self.amount / 100:.2f} {self.currency.upper()}"
        if not self.interval:
            return f"{self.product} - {amount}"
        every = (
            self.interval if self.interval_count == 1 else f"{self.interval_count} {self.interval}s"
        )
        return f"{self.product} - {amount} / {every}"

    @property
    def is_recurring(self) -> bool:
        return bool(self.interval)

    @property
    def is_metered(self) -> bool:
        """Billed for usage (``usage_type=metered``): recurring, with a meter."""
        return bool(self.interval) and self.meter_id is not None

    @property
    def usage_type(self) -> str:
        """``"metered"`` or ``"licensed"`` (a quantity bought up front), as Stripe names them."""
        return "metered" if self.is_metered else "licensed"

    def clean(self) -> None:
        super().clean()
        if self.max_quantity is not None and self.max_quantity < self.min_quantity:
            raise ValidationError({"max_quantity": _("Must not be below the minimum quantity.")})
        if self.trial_period_days and not self.interval:
            raise ValidationError({"trial_period_days": _("Only recurring prices have trials.")})
        if self.meter_id is not None and not self.interval:
            raise ValidationError(
                {"meter": _("Only a recurring price can be metered: choose an interval.")}
            )


class Pricing(AbstractPricing):
    class Meta(AbstractPricing.Meta):
        swappable = "PAYMENTS_SYNC_PRICING_MODEL"


class ExternalProduct(ExternalPaymentProvider):
    product = models.ForeignKey(
        product_model_name(),
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="external_products",
    )
    #: The hash of the feature names last attached to the provider product (entitlement
    #: features, ``Capability.ENTITLEMENTS``): unchanged features cost no call.
    features_hash = models.CharField(_("features hash"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("external product")
        verbose_name_plural = _("external products")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extproduct_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "product"], name="payments_sync_extproduct_one"
            ),
        ]


class ExternalPricing(ExternalPaymentProvider):
    pricing = models.ForeignKey(
        pricing_model_name(),
        verbose_name=_("pricing"),
        on_delete=models.CASCADE,
        related_name="external_pricings",
    )

    class Meta:
        verbose_name = _("external pricing")
        verbose_name_plural = _("external pricings")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extpricing_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "pricing"], name="payments_sync_extpricing_one"
            ),
        ]
