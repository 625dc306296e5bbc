"""The default tax policy, under the name it had before :mod:`django_payments_sync.tax.policy`."""

from django_payments_sync.tax.policy import (
    EU_COUNTRIES,
    TaxDecision,
    TaxExemptionChoice,
    decide_tax,
    is_eu_country,
    is_eu_member_state,
)

__all__ = [
    "EU_COUNTRIES",
    "TaxDecision",
    "TaxExemptionChoice",
    "decide_tax",
    "is_eu_country",
    "is_eu_member_state",
]
