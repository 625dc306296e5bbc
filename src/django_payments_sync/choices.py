"""The enums several layers share: a VAT number's status and a customer's tax exemption.

One definition each, kept below every layer: the billing information stores them, VIES
answers in :class:`VatStatus`, the tax policy decides a :class:`TaxExemption`, and the
provider backends read and write the exemption's values.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["TaxExemption", "VatStatus"]


class VatStatus(models.TextChoices):
    """The status of a VAT number: of the billing information's, of a VIES answer, of the cache.

    A VIES check answers one of ``valid``, ``invalid``, ``unavailable`` or ``error``; the
    billing information adds ``not_required`` (no number) and ``pending`` (not checked yet).
    """

    #: No VAT number: nothing to check.
    NOT_REQUIRED = "not_required", _("Not required")
    #: A number waiting for its first check.
    PENDING = "pending", _("Pending")
    #: VIES confirmed the number is registered.
    VALID = "valid", _("Valid")
    #: VIES answered that the number is not registered.
    INVALID = "invalid", _("Invalid")
    #: VIES or the member state could not answer; asked again later.
    UNAVAILABLE = "unavailable", _("VIES unavailable")
    #: VIES refused the request for a reason asking again will not fix.
    ERROR = "error", _("Could not be checked")


class TaxExemption(models.TextChoices):
    """How the provider taxes the customer (the values of Stripe's ``tax_exempt``)."""

    #: VAT is charged.
    NONE = "none", _("VAT charged")
    #: No VAT: the customer is outside the EU.
    EXEMPT = "exempt", _("Exempt (outside the EU)")
    #: No VAT charged; the customer accounts for it (intra-EU business customer).
    REVERSE = "reverse", _("Reverse charge")
