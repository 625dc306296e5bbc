"""Serializers of the billing API: billing information, the VAT-number check and the portal link."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from django_payments_sync.countries import is_country_code
from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.interactor.billing import BILLING_FIELDS, portal_return_url
from django_payments_sync.models import BillingInformation, SyncStatus


def validate_country_code(value: str) -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code, or a field error."""
    code = (value or "").strip().upper()
    if not is_country_code(code):
        raise serializers.ValidationError(
            _("Enter an ISO 3166-1 alpha-2 country code, such as DE or FR.")
        )
    return code


def normalize_vat_number_for(value: str, country: str | None) -> str:
    """``value`` checked offline (format, check digits, country) and normalized, e.g. ``EL...``.

    Raises a field error that says what is wrong; VIES is not asked here. With ``country``
    (the billing address's), the number must belong to it (``GR`` with ``EL``, ``GB`` only with
    Northern Ireland's ``XI``), and a number typed without its prefix gets the country's.
    """
    from django_payments_sync.vies.numbers import InvalidVatNumber, parse_vat_number

    try:
        return parse_vat_number(value, country).full
    except InvalidVatNumber as exc:
        raise serializers.ValidationError(exc.messages[0], code=exc.code) from exc


_SYNC_MESSAGES: dict[str, Any] = {
    SyncStatus.SYNCED: "",
    SyncStatus.PENDING: _(
        "Saved. The payment provider has not been updated yet; this is retried automatically."
    ),
    SyncStatus.FAILED: _(
        "Saved. The payment provider refused this data; please check it or contact support."
    ),
}


class BillingInformationSerializer(serializers.ModelSerializer[BillingInformation]):
    """The requester's billing information, with the tax decision and the provider sync state.

    Writable: the address, the billing email and the VAT number (``tax_id``, with its country
    prefix; stored normalized). Read-only: what is derived from them.
    """

    country = serializers.CharField(max_length=8, help_text="ISO 3166-1 alpha-2, e.g. DE")
    tax_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="EU VAT number with its country prefix, e.g. DE123456789 (EL for Greece)",
    )
    sync_status = serializers.CharField(source="customer.sync_status", read_only=True)
    sync_message = serializers.SerializerMethodField()

    class Meta:
        model = BillingInformation
        # What the customer sets, then what the library derives from it.
        read_only_fields = (
            "is_from_eu",
            "tax_exemption",
            "tax_decision_reason",
            "vat_validation_status",
            "vat_validated_at",
            "vat_consultation_number",
            "vat_next_check_at",
            "updated_at",
        )
        fields = (*BILLING_FIELDS, *read_only_fields, "sync_status", "sync_message")

    def get_sync_message(self, obj: BillingInformation) -> str:
        return str(_SYNC_MESSAGES.get(str(obj.customer.sync_status), ""))

    def validate_country(self, value: str) -> str:
        return validate_country_code(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance if isinstance(self.instance, BillingInformation) else None
        stored_country = instance.country if instance is not None else ""
        stored_tax_id = instance.tax_id if instance is not None else ""
        country = attrs.get("country", stored_country)
        # A PATCH of the country alone must still agree with the stored VAT number.
        if "tax_id" in attrs or ("country" in attrs and stored_tax_id):
            raw = attrs.get("tax_id", stored_tax_id)
            if raw and raw.strip():
                try:
                    attrs["tax_id"] = normalize_vat_number_for(raw, country)
                except serializers.ValidationError as exc:
                    raise serializers.ValidationError({"tax_id": exc.detail}) from exc
            elif "tax_id" in attrs:
                attrs["tax_id"] = ""
        return attrs


class VatNumberCheckSerializer(serializers.Serializer[Any]):
    """Input of ``POST billing/validate-vat/``: a VAT number and, optionally, its country."""

    vat_number = serializers.CharField(max_length=64)
    country = serializers.CharField(max_length=8, required=False, allow_blank=True)

    def validate_country(self, value: str) -> str:
        return validate_country_code(value) if value else ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["vat_number"] = normalize_vat_number_for(
                attrs["vat_number"], attrs.get("country") or None
            )
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"vat_number": exc.detail}) from exc
        return attrs


class VatCheckResultSerializer(serializers.Serializer[Any]):
    """What VIES answered about a VAT number (name and address only when VIES gives them)."""

    vat_number = serializers.CharField()
    country_code = serializers.CharField()
    status = serializers.CharField(help_text="valid | invalid | unavailable | error")
    valid = serializers.BooleanField()
    name = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    request_date = serializers.DateField(allow_null=True)
    consultation_number = serializers.CharField(allow_blank=True)
    fault_code = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    cached = serializers.BooleanField()


class PortalLinkSerializer(serializers.Serializer[Any]):
    """Input of ``POST billing/portal/``: where the portal links back to (optional)."""

    return_url = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    def validate_return_url(self, value: str) -> str:
        """The interactor's check (host code calling it directly gets the same), as a field
        error of ``return_url``."""
        if not value:
            return ""
        try:
            portal_return_url(value, self.context["request"])
        except PolicyViolation as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from exc
        return value


class PortalLinkResultSerializer(serializers.Serializer[Any]):
    url = serializers.URLField()
