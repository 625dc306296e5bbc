"""The VAT-number check as the rest of the package uses it: offline first, then cache, then VIES."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .client import check_vat
from .faults import LOCAL_FAILURES
from .numbers import parse_vat_number
from .result import DEFINITIVE_STATUSES, VatCheckResult, VatStatus

__all__ = ["UNAVAILABLE_CACHE_TTL", "cached_result", "validate_vat"]


#: How long an "unavailable" or "error" answer is reused. Short: long enough that a burst of
#: form submissions during an outage does not wait for VIES's timeout once each, short
#: enough that the next recheck (which skips the cache anyway) is not delayed by it.
UNAVAILABLE_CACHE_TTL = datetime.timedelta(seconds=60)


def _settings() -> dict[str, Any]:
    from django_payments_sync.conf import payments_settings

    return dict(payments_settings.VIES)


def cached_result(country_code: str, vat_number: str) -> VatCheckResult | None:
    """The stored answer for the number if it has not expired, else None."""
    from django_payments_sync.models import VatCheck

    row = (
        VatCheck.objects.filter(
            country_code=country_code, vat_number=vat_number, expires_at__gt=timezone.now()
        )
        .only(
            "status",
            "name",
            "address",
            "request_identifier",
            "request_date",
            "fault_code",
            "checked_at",
        )
        .first()
    )
    if row is None:
        return None
    status = VatStatus(row.status)
    return VatCheckResult(
        status=status,
        country_code=country_code,
        vat_number=vat_number,
        name=row.name,
        address=row.address,
        request_identifier=row.request_identifier,
        request_date=row.request_date,
        fault_code=row.fault_code,
        message=_stored_message(status, row.fault_code),
        checked_at=row.checked_at,
        cached=True,
    )


def _stored_message(status: VatStatus, fault_code: str) -> str:
    if status is VatStatus.INVALID:
        return "VIES: this VAT number is not registered."
    if fault_code:
        from .faults import classify_fault

        return LOCAL_FAILURES.get(fault_code) or classify_fault(fault_code).message
    return ""


def _store(result: VatCheckResult, ttl: datetime.timedelta) -> None:
    from django_payments_sync.models import VatCheck

    now = timezone.now()
    values: dict[str, Any] = {
        "status": str(result.status),
        "name": result.name[:255],
        "address": result.address,
        "request_identifier": result.request_identifier[:64],
        "request_date": result.request_date,
        "fault_code": result.fault_code[:64],
        "checked_at": result.checked_at or now,
        "expires_at": now + ttl,
    }
    rows = VatCheck.objects.filter(country_code=result.country_code, vat_number=result.vat_number)
    if result.status not in DEFINITIVE_STATUSES:
        fresh = rows.filter(status__in=[str(s) for s in DEFINITIVE_STATUSES], expires_at__gt=now)
        # A transient failure must not replace VIES's still-fresh answer about the number.
        if fresh.exists():
            return
    try:
        with transaction.atomic():
            VatCheck.objects.update_or_create(
                country_code=result.country_code, vat_number=result.vat_number, defaults=values
            )
    except IntegrityError:
        # Another process stored the same number between our read and our insert.
        rows.update(**values)


def validate_vat(
    number: str, country: str | None = None, *, use_cache: bool = True
) -> VatCheckResult:
    """Check a VAT number: offline format and check digits, then the database cache, then
    VIES. Valid and invalid answers are stored for ``PAYMENTS_SYNC["VIES"]["CACHE_TTL"]``
    seconds; "unavailable" and "error" ones for :data:`UNAVAILABLE_CACHE_TTL` only.

    ``country`` is the billing address's ISO code, checked against the number's prefix.
    ``use_cache=False`` always asks VIES (a recheck). Raises
    :class:`~django_payments_sync.vies.numbers.InvalidVatNumber` when the number fails the
    offline checks (such a number never reaches VIES); otherwise never raises.
    """
    parsed = parse_vat_number(number, country)
    config = _settings()

    if use_cache:
        hit = cached_result(parsed.country_code, parsed.number)
        if hit is not None:
            return hit

    if not config.get("ENABLED", True):
        return VatCheckResult(
            status=VatStatus.UNAVAILABLE,
            country_code=parsed.country_code,
            vat_number=parsed.number,
            fault_code="VIES_DISABLED",
            message=LOCAL_FAILURES["VIES_DISABLED"],
            checked_at=timezone.now(),
        )

    result = check_vat(parsed.country_code, parsed.number)
    ttl = datetime.timedelta(seconds=float(config["CACHE_TTL"]))
    if result.status not in DEFINITIVE_STATUSES:
        ttl = min(ttl, UNAVAILABLE_CACHE_TTL)
    if ttl > datetime.timedelta(0):
        _store(result, ttl)
    return result
