"""Offline VAT-number checks: normalize, split into VIES prefix and number, check digits."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from types import MappingProxyType

from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as eu_vat

__all__ = [
    "VIES_PREFIXES",
    "InvalidVatNumber",
    "VatNumber",
    "compact_vat_number",
    "iso_country_code",
    "normalize_vat_number",
    "parse_vat_number",
    "vies_country_code",
]

#: The prefixes VIES knows, with the country they name. Greece is ``EL`` (not its ISO code
#: ``GR``); ``XI`` is Northern Ireland, which stays in the EU VAT area for goods.
VIES_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "AT": "Austria",
        "BE": "Belgium",
        "BG": "Bulgaria",
        "CY": "Cyprus",
        "CZ": "Czechia",
        "DE": "Germany",
        "DK": "Denmark",
        "EE": "Estonia",
        "EL": "Greece",
        "ES": "Spain",
        "FI": "Finland",
        "FR": "France",
        "HR": "Croatia",
        "HU": "Hungary",
        "IE": "Ireland",
        "IT": "Italy",
        "LT": "Lithuania",
        "LU": "Luxembourg",
        "LV": "Latvia",
        "MT": "Malta",
        "NL": "Netherlands",
        "PL": "Poland",
        "PT": "Portugal",
        "RO": "Romania",
        "SE": "Sweden",
        "SI": "Slovenia",
        "SK": "Slovakia",
        "XI": "Northern Ireland",
    }
)

# Where a VIES prefix differs from the ISO 3166 code of the country it belongs to.
_ISO_FOR_PREFIX = {"EL": "GR", "XI": "GB"}
# Prefixes people type that VIES spells differently.
_PREFIX_ALIASES = {"GR": "EL"}
_SEPARATORS = re.compile(r"[\s.\-/,:_]+")


class InvalidVatNumber(ValidationError):
    """A VAT number that fails the offline checks; never worth asking VIES about.

    A Django ``ValidationError``, so forms and DRF serializers show ``message`` as a field
    error. ``code`` is one of ``required``, ``missing_prefix``, ``unknown_prefix``,
    ``not_eu``, ``country_mismatch``, ``format``, ``length`` or ``checksum``.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)

    def __str__(self) -> str:
        # Django's ValidationError prints a list ("['...']"); callers show this to customers.
        return str(self.message)


@dataclasses.dataclass(frozen=True, slots=True)
class VatNumber:
    """A VAT number that passed the offline checks, split the way VIES wants it."""

    #: VIES prefix: ``EL`` for Greece, ``XI`` for Northern Ireland.
    country_code: str
    #: The number without its prefix.
    number: str

    @property
    def full(self) -> str:
        return f"{self.country_code}{self.number}"

    @property
    def iso_country(self) -> str:
        """The ISO 3166 code of the number's country (``GR`` for ``EL``, ``GB`` for ``XI``)."""
        return iso_country_code(self.country_code)

    def __str__(self) -> str:
        return self.full


def compact_vat_number(value: str) -> str:
    """Strip the spaces and separators people type, and upper-case: ``"de 812.345.673"``
    becomes ``"DE812345673"``. No check is made."""
    return _SEPARATORS.sub("", value).upper()


def normalize_vat_number(value: str, country: str | None = None) -> str:
    """The number checked offline (see :func:`parse_vat_number`), as stored and shown: with
    its VIES prefix and no separators, e.g. ``"gr 094 512 355"`` gives ``"EL094512355"``.

    Raises :class:`InvalidVatNumber`.
    """
    return parse_vat_number(value, country).full


def vies_country_code(country: str) -> str | None:
    """The VIES prefix for an ISO country code, or None when VIES does not cover it.

    ``GR`` gives ``EL``. ``GB`` gives None: only Northern Ireland's traders (``XI``) are in
    VIES, and a British address alone does not say whether it is in Northern Ireland.
    """
    code = country.strip().upper()
    code = _PREFIX_ALIASES.get(code, code)
    return code if code in VIES_PREFIXES else None


def iso_country_code(prefix: str) -> str:
    """The ISO 3166 code for a VIES prefix: ``EL`` gives ``GR``, ``XI`` gives ``GB``."""
    code = prefix.strip().upper()
    return _ISO_FOR_PREFIX.get(code, code)


def _allowed_prefixes(country: str) -> frozenset[str]:
    code = country.strip().upper()
    if code == "GB":
        return frozenset({"XI"})
    prefix = vies_country_code(code)
    return frozenset({prefix}) if prefix else frozenset()


def _country_label(prefix: str) -> str:
    return VIES_PREFIXES.get(prefix, prefix)


def _validate(prefix: str, number: str) -> VatNumber:
    try:
        checked = eu_vat.validate(prefix + number)
    except stdnum_exceptions.InvalidChecksum:
        raise InvalidVatNumber(
            "This VAT number's check digits are wrong: look for a typing mistake.",
            code="checksum",
        ) from None
    except stdnum_exceptions.InvalidLength:
        raise InvalidVatNumber(
            f"This VAT number has the wrong length for {_country_label(prefix)}.",
            code="length",
        ) from None
    except stdnum_exceptions.ValidationError:
        # InvalidFormat and InvalidComponent: characters or parts that cannot occur there.
        raise InvalidVatNumber(
            f"This is not the format of a VAT number from {_country_label(prefix)}.",
            code="format",
        ) from None
    return VatNumber(country_code=prefix, number=checked[2:])


def parse_vat_number(value: str, country: str | None = None) -> VatNumber:
    """Check a VAT number offline and split it into VIES prefix and number.

    ``country`` is the billing address's ISO code. When given, a number typed without its
    prefix gets the country's, and a prefix that names another country is refused (``GR``
    goes with ``EL``; ``GB`` only with Northern Ireland's ``XI``). Raises
    :class:`InvalidVatNumber` with a message for the customer; nothing here touches the
    network.
    """
    compact = compact_vat_number(value or "")
    if not compact:
        raise InvalidVatNumber("Enter a VAT number.", code="required")
    allowed = _allowed_prefixes(country) if country else None
    if country and not allowed:
        raise InvalidVatNumber(
            f"{country.strip().upper()} is not an EU member state: its VAT numbers cannot "
            "be checked with VIES.",
            code="not_eu",
        )

    head = compact[:2]
    typed_prefix = _PREFIX_ALIASES.get(head, head) if head.isalpha() else None
    if typed_prefix is not None and typed_prefix in VIES_PREFIXES:
        if allowed is None or typed_prefix in allowed:
            return _validate(typed_prefix, compact[2:])
        mismatch = InvalidVatNumber(
            f"This VAT number is from {_country_label(typed_prefix)} ({head}) but the "
            f"billing country is {country.strip().upper() if country else ''}.",
            code="country_mismatch",
        )
        # Some numbers legitimately start with two letters (French keys such as
        # "FRAB123456789" typed without "FR"), so try the billing country's prefix first.
        return _with_country_prefix(compact, allowed, fallback=mismatch)

    if allowed is None:
        if typed_prefix is not None:
            raise InvalidVatNumber(
                f"{head} is not the prefix of an EU VAT number"
                + (" (Great Britain's numbers are not in VIES)." if head == "GB" else "."),
                code="unknown_prefix",
            )
        raise InvalidVatNumber(
            "Start the VAT number with its country prefix, such as DE or FR.",
            code="missing_prefix",
        )
    if allowed == {"XI"}:
        # With a British address, anything but an XI number is a GB number: not in VIES.
        raise InvalidVatNumber(
            "Only Northern Ireland VAT numbers can be checked with VIES: start it with XI.",
            code="missing_prefix",
        )
    return _with_country_prefix(compact, allowed, fallback=None)


def _with_country_prefix(
    compact: str, allowed: frozenset[str], *, fallback: InvalidVatNumber | None
) -> VatNumber:
    (prefix,) = allowed
    try:
        return _validate(prefix, compact)
    except InvalidVatNumber:
        if fallback is not None:
            raise fallback from None
        raise
