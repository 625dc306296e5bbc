"""The outcome of a VAT-number check: one type whatever happened on the way to VIES."""

from __future__ import annotations

import dataclasses
import datetime

from django_payments_sync.choices import VatStatus

__all__ = ["VatCheckResult", "VatStatus"]


#: Statuses that are VIES's answer about the number itself, as opposed to about the service.
DEFINITIVE_STATUSES = frozenset({VatStatus.VALID, VatStatus.INVALID})


def clean_text(value: object) -> str:
    """Return VIES's optional text as a plain string, ``---`` (withheld) meaning empty."""
    if value is None:
        return ""
    text = str(value).strip()
    return "" if text == "---" else text


@dataclasses.dataclass(frozen=True, slots=True)
class VatCheckResult:
    """The answer to "is this VAT number registered?", with whatever VIES told about it.

    ``country_code`` is VIES's code (``EL`` for Greece, ``XI`` for Northern Ireland) and
    ``vat_number`` the number without that prefix. ``request_identifier`` is the consultation
    number VIES issues to ``checkVatApprox`` when the requester's own VAT number is configured:
    keep it as proof the check was made.
    """

    status: VatStatus
    country_code: str
    vat_number: str
    name: str = ""
    address: str = ""
    request_identifier: str = ""
    request_date: datetime.date | None = None
    fault_code: str = ""
    message: str = ""
    checked_at: datetime.datetime | None = None
    #: True when the answer came from the database cache, not from VIES just now.
    cached: bool = False

    @property
    def full_number(self) -> str:
        """The number with its VIES country prefix, e.g. ``EL094512355``."""
        return f"{self.country_code}{self.vat_number}"

    @property
    def is_valid(self) -> bool:
        return self.status is VatStatus.VALID

    @property
    def retryable(self) -> bool:
        """True when asking VIES again later may give a definitive answer."""
        return self.status is VatStatus.UNAVAILABLE

    @property
    def is_definitive(self) -> bool:
        """True when VIES answered about the number (valid or invalid)."""
        return self.status in DEFINITIVE_STATUSES
