"""The tax policy: the default rule (a pure function) and the one writer of its decision.

:func:`decide_tax` is the default rule, which the adapter's ``decide_tax`` calls and a host
may replace; :func:`process_tax` is the only code that writes a billing information's tax
exemption and sends ``tax_status_changed``: the billing API, the VIES recheck and the
provider's tax id events all come here.
"""

from __future__ import annotations

import dataclasses

from django_payments_sync import signals
from django_payments_sync.choices import TaxExemption, VatStatus
from django_payments_sync.conf import get_adapter
from django_payments_sync.models import BillingInformation

__all__ = [
    "EU_COUNTRIES",
    "TaxDecision",
    "TaxExemptionChoice",
    "decide_tax",
    "is_eu_country",
    "is_eu_member_state",
    "process_tax",
]

#: ISO 3166-1 alpha-2 codes of the EU member states.
#:
#: Northern Ireland has no ISO code of its own (it is part of ``GB``); for VAT on goods it
#: stays in the EU's system, and its traders' numbers carry the ``XI`` prefix in VIES.
#: :func:`is_eu_country` therefore accepts ``XI`` (and Greece's VIES prefix ``EL``), while a
#: ``GB`` address counts as outside the EU.
EU_COUNTRIES: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip

# VIES prefixes used where a country code is expected.
_ALIASES = {"EL": "GR"}
_VAT_AREA_ONLY = frozenset({"XI"})


#: The decision's exemption: the one enum, :class:`~django_payments_sync.choices.TaxExemption`.
TaxExemptionChoice = TaxExemption


@dataclasses.dataclass(frozen=True, slots=True)
class TaxDecision:
    """A tax exemption and the sentence explaining it (stored on the billing information)."""

    exemption: TaxExemptionChoice
    reason: str


def _country(code: str | None) -> str:
    value = (code or "").strip().upper()
    return _ALIASES.get(value, value)


def is_eu_country(code: str | None) -> bool:
    """Whether ``code`` is an EU member state for VAT: an ISO code of :data:`EU_COUNTRIES`,
    Greece's ``EL``, or Northern Ireland's ``XI``. ``GB`` is not."""
    country = _country(code)
    return country in EU_COUNTRIES or country in _VAT_AREA_ONLY


#: The name the billing services use.
is_eu_member_state = is_eu_country


def decide_tax(
    *,
    seller_country: str | None,
    customer_country: str | None,
    vat_status: str | None,
    has_vat_number: bool,
) -> TaxDecision:
    """The default policy, as a pure function.

    * a customer in the seller's country pays VAT (``none``);
    * a customer in another EU member state with a VAT number VIES confirmed gets reverse
      charge (``reverse``);
    * a customer in the EU without such a number pays VAT (``none``), also while the number
      is still being checked (``pending``, ``unavailable``): VAT is charged until VIES
      confirms it;
    * a customer outside the EU is ``exempt``.

    ``vat_status`` is the billing information's VAT validation status (``not_required``,
    ``pending``, ``valid``, ``invalid``, ``unavailable`` or ``error``).
    """
    seller = _country(seller_country)
    customer = _country(customer_country)
    status = (vat_status or "").strip().lower()

    if not customer:
        return TaxDecision(
            TaxExemptionChoice.NONE, "VAT is charged: the billing country is not known."
        )
    if seller and customer == seller:
        return TaxDecision(
            TaxExemptionChoice.NONE,
            f"VAT is charged: the customer is in the seller's country ({customer}).",
        )
    if not is_eu_country(customer):
        return TaxDecision(
            TaxExemptionChoice.EXEMPT, f"No VAT: the customer is outside the EU ({customer})."
        )
    if not seller:
        # Reverse charge is only right for a customer in *another* member state than the
        # seller's; without the seller's country that cannot be told, so charge VAT.
        return TaxDecision(
            TaxExemptionChoice.NONE,
            f"VAT is charged: EU customer ({customer}) and the seller's country is not "
            'configured (PAYMENTS_SYNC["SELLER_COUNTRY"]).',
        )
    if has_vat_number and status == "valid":
        return TaxDecision(
            TaxExemptionChoice.REVERSE,
            f"Reverse charge: business customer in another EU member state ({customer}) "
            "with a VAT number confirmed by VIES.",
        )
    return TaxDecision(TaxExemptionChoice.NONE, _why_vat_in_eu(customer, status, has_vat_number))


def _why_vat_in_eu(customer: str, status: str, has_vat_number: bool) -> str:
    if not has_vat_number:
        return f"VAT is charged: EU customer ({customer}) without a VAT number."
    if status == "invalid":
        return f"VAT is charged: VIES does not know the customer's VAT number ({customer})."
    if status == "error":
        return f"VAT is charged: VIES refused to check the customer's VAT number ({customer})."
    if status == "unavailable":
        return (
            f"VAT is charged until VIES confirms the customer's VAT number ({customer}); "
            "VIES could not be reached, the check will be retried."
        )
    return f"VAT is charged until VIES confirms the customer's VAT number ({customer})."


# --- the one writer ----------------------------------------------------------------------


def process_tax(
    billing_info: BillingInformation,
    *,
    status: str | None = None,
    previous: tuple[str, str] | None = None,
    only_tax_fields: bool = False,
) -> TaxDecision:
    """Decide and save the tax exemption of ``billing_info`` through the adapter's policy: the
    one writer of the tax decision (the billing API, the VIES recheck and the provider's tax id
    events all come here).

    ``status`` sets the VAT validation status first. Maintains ``is_from_eu`` from the
    country, records the decision's reason, saves (only the tax fields with
    ``only_tax_fields``), and sends ``tax_status_changed`` after commit when the exemption or
    the VAT validation status differs from what was stored before (``previous``:
    ``(tax_exemption, vat_validation_status)`` when the caller read them already).
    """
    previous_exemption: str = TaxExemption.NONE
    previous_status: str = VatStatus.NOT_REQUIRED
    if previous is not None:
        previous_exemption, previous_status = previous
    elif billing_info.pk is not None:
        stored = (
            BillingInformation.objects.filter(pk=billing_info.pk)
            .values("tax_exemption", "vat_validation_status")
            .first()
        )
        if stored is not None:
            previous_exemption = stored["tax_exemption"]
            previous_status = stored["vat_validation_status"]

    if status is not None:
        billing_info.vat_validation_status = status
    billing_info.is_from_eu = is_eu_member_state(billing_info.country)
    decision = get_adapter().decide_tax(billing_info, str(billing_info.vat_validation_status))
    billing_info.tax_exemption = str(decision.exemption)
    billing_info.tax_decision_reason = str(decision.reason)[:255]
    if only_tax_fields:
        billing_info.save(
            update_fields=[
                "vat_validation_status",
                "is_from_eu",
                "tax_exemption",
                "tax_decision_reason",
                "updated_at",
            ]
        )
    else:
        billing_info.save()

    if (billing_info.tax_exemption, billing_info.vat_validation_status) != (
        previous_exemption,
        previous_status,
    ):
        signals.send_after_commit(
            signals.tax_status_changed,
            sender=BillingInformation,
            billing_information=billing_info,
            customer=billing_info.customer,
            tax_exemption=billing_info.tax_exemption,
            vat_validation_status=billing_info.vat_validation_status,
            previous_tax_exemption=previous_exemption,
            previous_vat_validation_status=previous_status,
        )
    return decision
