"""The default tax policy: which customers pay VAT, get reverse charge, or are exempt."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

__all__ = [
    "EU_COUNTRIES",
    "TaxDecision",
    "TaxExemptionChoice",
    "decide_tax",
    "is_eu_country",
    "is_eu_member_state",
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


class TaxExemptionChoice(StrEnum):
    """The provider's tax exemption of a customer (Stripe's ``tax_exempt`` values)."""

    #: VAT is charged.
    NONE = "none"
    #: No VAT: the customer is outside the EU.
    EXEMPT = "exempt"
    #: No VAT charged; the customer accounts for it (intra-EU business customer).
    REVERSE = "reverse"


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
