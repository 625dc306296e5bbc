"""A VAT number's status from VIES: checking it, recording the answer, rechecking it later.

Every status change goes through :func:`~django_payments_sync.tax.policy.process_tax`, so a
new answer from VIES gives a new tax decision; a changed decision is pushed to the provider.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from django_payments_sync.choices import VatStatus
from django_payments_sync.conf import payments_settings
from django_payments_sync.models import BillingInformation
from django_payments_sync.sync.autosync import suppress_autosync
from django_payments_sync.sync.customers import push_customer_after_commit
from django_payments_sync.tax.policy import process_tax

if TYPE_CHECKING:
    from django_payments_sync.vies import VatCheckResult

__all__ = [
    "RECHECK_STATUSES",
    "RecheckReport",
    "apply_vat_result",
    "check_vat_if_needed",
    "clear_vat_state",
    "recheck_delay",
    "recheck_pending_vat",
    "validate_vies",
]

#: Validation states a recheck retries: not checked yet, or VIES could not answer.
RECHECK_STATUSES: tuple[str, ...] = (VatStatus.PENDING, VatStatus.UNAVAILABLE)


def vat_check_needed(existing: BillingInformation | None, tax_id: str) -> bool:
    """Whether saving ``tax_id`` over ``existing`` needs a VIES answer.

    A number VIES already answered for keeps its answer; a new one (or one VIES could not
    check yet) is asked about.
    """
    if not tax_id:
        return False
    settled = (VatStatus.VALID, VatStatus.INVALID)
    known = existing is not None and existing.tax_id == tax_id
    return not (known and existing is not None and existing.vat_validation_status in settled)


def check_vat_if_needed(
    existing: BillingInformation | None, tax_id: str, country: str
) -> VatCheckResult | None:
    """A VIES answer for ``tax_id`` when one is needed, else ``None`` (keep the stored status);
    VIES's cache answers for numbers seen recently."""
    if not vat_check_needed(existing, tax_id):
        return None
    return validate_vies(tax_id, country)


def apply_vat_result(billing: BillingInformation, result: VatCheckResult, now: dt.datetime) -> None:
    """Record a VIES answer on ``billing``, scheduling a recheck when VIES could not answer."""
    status = VatStatus(result.status)
    billing.vat_validation_status = status
    if status == VatStatus.UNAVAILABLE:
        billing.vat_check_attempts += 1
        billing.vat_next_check_at = now + recheck_delay(billing.vat_check_attempts)
        return
    billing.vat_check_attempts = 0
    billing.vat_next_check_at = None
    if status == VatStatus.VALID:
        billing.vat_validated_at = result.checked_at or now
        billing.vat_consultation_number = result.request_identifier
    else:
        billing.vat_validated_at = None
        billing.vat_consultation_number = ""


def clear_vat_state(billing: BillingInformation) -> None:
    billing.vat_validation_status = VatStatus.NOT_REQUIRED
    billing.vat_validated_at = None
    billing.vat_consultation_number = ""
    billing.vat_check_attempts = 0
    billing.vat_next_check_at = None


def recheck_delay(attempts: int) -> dt.timedelta:
    """How long to wait after ``attempts`` failed VIES checks: doubling, capped, with jitter.

    The jitter (up to a tenth more) spreads the rechecks of many numbers that failed during
    the same VIES outage, so they do not all hit VIES again at the same second.
    """
    config = payments_settings.VAT_RECHECK
    base = float(config["BASE_DELAY"])
    cap = float(config["MAX_DELAY"])
    seconds = min(base * 2 ** max(attempts - 1, 0), cap)
    return dt.timedelta(seconds=seconds * random.uniform(1.0, 1.1))


def validate_vies(number: str, country: str | None = None) -> VatCheckResult:
    """Check ``number`` with VIES (offline format first, cached answers reused)."""
    from django_payments_sync.vies import validate_vat

    return validate_vat(number, country)


@dataclass
class RecheckReport:
    """What a VIES recheck run did, by billing information id."""

    checked: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    still_pending: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.checked)

    @property
    def counts(self) -> dict[str, int]:
        """The numbers of the run, JSON-able (what a task returns)."""
        return {
            "checked": len(self.checked),
            "changed": len(self.changed),
            "still_pending": len(self.still_pending),
        }


def recheck_pending_vat(
    *,
    now: dt.datetime | None = None,
    force: bool = False,
    limit: int | None = None,
    ids: Iterable[int] | None = None,
) -> RecheckReport:
    """Ask VIES again about the numbers it could not check, those whose recheck is due.

    ``force`` rechecks them all regardless of the backoff schedule. A number whose status
    changes gets a new tax decision and a provider sync; one VIES still cannot answer for is
    scheduled again, each time later (see :func:`recheck_delay`).
    """
    now = now or timezone.now()
    rows = BillingInformation.objects.filter(vat_validation_status__in=RECHECK_STATUSES).exclude(
        tax_id=""
    )
    if not force:
        rows = rows.filter(Q(vat_next_check_at__isnull=True) | Q(vat_next_check_at__lte=now))
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    rows = rows.order_by("vat_next_check_at", "pk")
    if limit is not None:
        rows = rows[:limit]

    report = RecheckReport()
    # Read the batch up front: the loop writes to the same table while it goes.
    for pk, tax_id, country in list(rows.values_list("pk", "tax_id", "country")):
        # The network call happens outside any transaction; the row is re-read under a lock
        # after it, and skipped if the customer changed the number in the meantime.
        result = _fresh_vies_check(tax_id, country)
        report.checked.append(pk)
        with transaction.atomic(), suppress_autosync():
            billing = (
                BillingInformation.objects.select_for_update()
                .select_related("customer")
                .filter(pk=pk, tax_id=tax_id, vat_validation_status__in=RECHECK_STATUSES)
                .first()
            )
            if billing is None:
                continue
            previous_status = billing.vat_validation_status
            apply_vat_result(billing, result, now)
            if billing.vat_validation_status in RECHECK_STATUSES:
                report.still_pending.append(pk)
            if billing.vat_validation_status == previous_status:
                billing.save(
                    update_fields=["vat_check_attempts", "vat_next_check_at", "updated_at"]
                )
                continue
            report.changed.append(pk)
            process_tax(billing)
            push_customer_after_commit(billing.customer)
    return report


def _fresh_vies_check(tax_id: str, country: str) -> VatCheckResult:
    from django_payments_sync.vies import InvalidVatNumber, VatCheckResult, VatStatus, validate_vat

    try:
        # A recheck exists because the last answer was "could not check": never reuse a cache.
        return validate_vat(tax_id, country, use_cache=False)
    except InvalidVatNumber as exc:
        # A stored number the offline rules now refuse (the data was changed outside the API,
        # or the rules were updated) is invalid: one bad row must not stop the whole run.
        return VatCheckResult(
            status=VatStatus.INVALID,
            country_code=tax_id[:2],
            vat_number=tax_id[2:],
            message=exc.messages[0],
        )
