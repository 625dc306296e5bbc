"""Customers (who pays), their billing information, and their link to the provider."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.choices import TaxExemption, VatStatus
from django_payments_sync.conf import customer_owner_model_name
from django_payments_sync.models.base import ExternalPaymentProvider, SyncedModel, TimestampedModel


class AbstractCustomer(SyncedModel):
    """Who pays: owned by a user or an organization (``PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL``)."""

    owner = models.OneToOneField(
        customer_owner_model_name(),
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="payments_customer",
    )
    email = models.EmailField(_("email"), db_index=True)
    name = models.CharField(_("name"), max_length=255, blank=True, default="")
    #: The feature names (lookup keys) the provider says the customer holds now (Stripe
    #: Entitlements), as its last entitlements event told; read when
    #: ``ENTITLEMENTS_SOURCE`` is ``"provider"``.
    provider_entitlements = models.JSONField(_("provider entitlements"), default=list, blank=True)
    #: The provider time of that event: an older one never overwrites a newer answer.
    provider_entitlements_at = models.DateTimeField(
        _("provider entitlements at"), null=True, blank=True
    )

    class Meta:
        abstract = True
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name or self.email


class Customer(AbstractCustomer):
    class Meta(AbstractCustomer.Meta):
        pass


#: The billing information's VAT validation status (the one enum, :class:`VatStatus`).
VatValidationStatus = VatStatus


class AbstractBillingInformation(TimestampedModel):
    """The customer's billing details, with the VAT data and the tax decision taken from them."""

    customer = models.OneToOneField(
        "django_payments_sync.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="billing_information",
    )
    name = models.CharField(_("name"), max_length=255)
    email = models.EmailField(_("billing email"))
    address_line1 = models.CharField(_("address line 1"), max_length=255)
    address_line2 = models.CharField(_("address line 2"), max_length=255, blank=True, default="")
    city = models.CharField(_("city"), max_length=255)
    postal_code = models.CharField(_("postal code"), max_length=32, blank=True, default="")
    region = models.CharField(_("region"), max_length=255, blank=True, default="")
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    tax_id = models.CharField(
        _("VAT number"), max_length=32, blank=True, default="", help_text=_("With country prefix")
    )
    is_from_eu = models.BooleanField(_("in the EU"), default=False)
    tax_exemption = models.CharField(
        _("tax exemption"), max_length=16, choices=TaxExemption.choices, default=TaxExemption.NONE
    )
    tax_decision_reason = models.CharField(
        _("tax decision reason"), max_length=255, blank=True, default=""
    )
    vat_validation_status = models.CharField(
        _("VAT validation status"),
        max_length=16,
        choices=VatValidationStatus.choices,
        default=VatValidationStatus.NOT_REQUIRED,
        db_index=True,
    )
    vat_validated_at = models.DateTimeField(_("VAT validated at"), null=True, blank=True)
    vat_consultation_number = models.CharField(
        _("VIES consultation number"), max_length=64, blank=True, default=""
    )
    # A number VIES could not answer for is rechecked later with backoff (``payments_sync vat
    # recheck``); these record how often it was tried and when the next try is due.
    vat_check_attempts = models.PositiveIntegerField(_("VAT check attempts"), default=0)
    vat_next_check_at = models.DateTimeField(
        _("next VAT check at"), null=True, blank=True, db_index=True
    )

    class Meta:
        abstract = True
        verbose_name = _("billing information")
        verbose_name_plural = _("billing information")

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class BillingInformation(AbstractBillingInformation):
    class Meta(AbstractBillingInformation.Meta):
        pass


class ExternalCustomer(ExternalPaymentProvider):
    customer = models.ForeignKey(
        "django_payments_sync.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="external_customers",
    )
    #: The customer's mapped fields as last known to be at the provider, whether pushed by us or
    #: applied from one of its events; a push sends only what differs from it (see ownership).
    synced_state = models.JSONField(_("state at the provider"), default=dict, blank=True)

    class Meta:
        verbose_name = _("external customer")
        verbose_name_plural = _("external customers")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extcustomer_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "customer"], name="payments_sync_extcustomer_one"
            ),
        ]
