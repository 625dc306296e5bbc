"""The EU VAT-number check through VIES: offline checks, the zeep client, the cached check."""

from .client import check_vat
from .faults import FAULTS, LOCAL_FAILURES, classify_fault
from .numbers import (
    InvalidVatNumber,
    VatNumber,
    compact_vat_number,
    iso_country_code,
    normalize_vat_number,
    parse_vat_number,
    vies_country_code,
)
from .result import VatCheckResult, VatStatus
from .service import validate_vat

__all__ = [
    "FAULTS",
    "LOCAL_FAILURES",
    "InvalidVatNumber",
    "VatCheckResult",
    "VatNumber",
    "VatStatus",
    "check_vat",
    "classify_fault",
    "compact_vat_number",
    "iso_country_code",
    "normalize_vat_number",
    "parse_vat_number",
    "validate_vat",
    "vies_country_code",
]
