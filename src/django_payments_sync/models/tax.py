"""The database cache of EU VAT-number checks answered by VIES."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.choices import VatStatus

#: The status of a cached VIES answer (the one enum, :class:`VatStatus`).
VatCheckStatus = VatStatus


class VatCheck(models.Model):
    """The last VIES answer for one VAT number, kept until ``expires_at``."""

    country_code = models.CharField(_("VIES country code"), max_length=2)
    vat_number = models.CharField(_("VAT number"), max_length=20, help_text=_("Without prefix"))
    status = models.CharField(_("status"), max_length=16, choices=VatStatus.choices)
    name = models.CharField(_("trader name"), max_length=255, blank=True, default="")
    address = models.TextField(_("trader address"), blank=True, default="")
    request_identifier = models.CharField(
        _("consultation number"), max_length=64, blank=True, default=""
    )
    request_date = models.DateField(_("request date"), null=True, blank=True)
    fault_code = models.CharField(_("fault code"), max_length=64, blank=True, default="")
    checked_at = models.DateTimeField(_("checked at"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("VAT check")
        verbose_name_plural = _("VAT checks")
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "vat_number"], name="payments_sync_vatcheck_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}{self.vat_number}: {self.status}"
