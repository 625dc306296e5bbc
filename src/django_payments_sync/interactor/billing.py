"""Billing information: save locally, decide tax (with VIES), push to the provider after commit."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from django_payments_sync import signals
from django_payments_sync.adapter import get_adapter
from django_payments_sync.backends import get_backend
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    SyncStatus,
    TaxExemption,
    VatValidationStatus,
)
from django_payments_sync.sync.autosync import suppress_autosync

if TYPE_CHECKING:
    from django_payments_sync.interactor.tax import TaxDecision
    from django_payments_sync.vies import VatCheckResult

logger = logging.getLogger(__name__)

#: The fields of billing information a customer sets; everything else is derived from them.
BILLING_FIELDS: tuple[str, ...] = (
    "name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "region",
    "country",
    "tax_id",
)

#: Validation states a recheck retries: not checked yet, or VIES could not answer.
RECHECK_STATUSES: tuple[str, ...] = (VatValidationStatus.PENDING, VatValidationStatus.UNAVAILABLE)

#: VIES result status -> the billing information's validation status.
_STATUS_FROM_VIES: dict[str, str] = {
    "valid": VatValidationStatus.VALID,
    "invalid": VatValidationStatus.INVALID,
    "unavailable": VatValidationStatus.UNAVAILABLE,
    "error": VatValidationStatus.ERROR,
}


# --- reading ----------------------------------------------------------------------------------


def get_billing_info(customer: Customer | None) -> BillingInformation | None:
    """The billing information of ``customer``, or ``None`` when there is none yet."""
    if customer is None:
        return None
    return BillingInformation.objects.select_related("customer").filter(customer=customer).first()


def billing_info_of_owner(owner: Any) -> BillingInformation | None:
    """The billing information of ``owner``'s customer, with the customer, in one query."""
    rows = BillingInformation.objects.select_related("customer").filter(customer__owner=owner)
    return rows.first()


# --- saving -----------------------------------------------------------------------------------


def create_user_billing_info(customer: Customer, data: Mapping[str, Any]) -> BillingInformation:
    """Create or replace the billing information of ``customer`` with ``data`` (validated input).

    Fields of :data:`BILLING_FIELDS` missing from ``data`` are reset to empty. The VAT number is
    checked with VIES first (outside the transaction: a slow VIES never holds a database lock),
    then the data and the tax decision are saved together, and the provider customer is updated
    after commit. A provider failure never loses the saved data: the customer stays marked
    pending and ``payments_sync push`` (or the next save) retries.
    """
    values = {name: data.get(name, "") or "" for name in BILLING_FIELDS}
    return _save_billing_info(customer, values)


def update_billing_info(customer: Customer, data: Mapping[str, Any]) -> BillingInformation:
    """Change some fields of ``customer``'s billing information (``DoesNotExist`` if none)."""
    if not BillingInformation.objects.filter(customer=customer).exists():
        raise BillingInformation.DoesNotExist(f"Customer {customer.pk} has no billing information.")
    values = {name: data[name] or "" for name in BILLING_FIELDS if name in data}
    return _save_billing_info(customer, values)


def _save_billing_info(customer: Customer, values: dict[str, Any]) -> BillingInformation:
    existing = get_billing_info(customer)
    values = _normalized(values, existing)
    tax_id = values.get("tax_id", existing.tax_id if existing else "")
    country = values.get("country", existing.country if existing else "")
    vat_result = _check_vat_if_needed(existing, tax_id, country)

    # Our own explicit push after commit replaces the automatic one of the save receivers, so
    # the customer is pushed once, after the tax decision, and the caller learns the outcome.
    with transaction.atomic(), suppress_autosync():
        # Saves of one customer's billing information run one at a time: two first saves at
        # once would otherwise both insert, and the loser would fail on the unique customer.
        list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
        billing = BillingInformation.objects.select_for_update().filter(
            customer=customer
        ).first() or BillingInformation(customer=customer)
        for name, value in values.items():
            setattr(billing, name, value)
        if not billing.tax_id:
            _clear_vat_state(billing)
        elif vat_result is not None and billing.tax_id == tax_id:
            _apply_vat_result(billing, vat_result, timezone.now())
        elif vat_result is not None:
            # Another save changed the number while VIES answered about the old one: the
            # recheck asks about the number actually stored.
            billing.vat_validation_status = VatValidationStatus.PENDING
            billing.vat_next_check_at = None
        process_tax(billing)
        _mark_customer_pending(customer)
        signals.send_after_commit(
            signals.billing_info_updated,
            sender=BillingInformation,
            billing_information=billing,
            customer=customer,
        )
        _push_after_commit(customer.pk)
    _refresh_sync_state(customer)
    billing.customer = customer
    return billing


def _normalized(values: dict[str, Any], existing: BillingInformation | None) -> dict[str, Any]:
    """``values`` as stored, whoever wrote them (the API, host code): the country upper-case,
    the VAT number compact, upper-case and with its prefix (``"nl 123456782b01"`` gives
    ``"NL123456782B01"``), checked offline with python-stdnum. Raises
    :class:`~django_payments_sync.vies.numbers.InvalidVatNumber` for a number that fails."""
    from django_payments_sync.vies.numbers import normalize_vat_number

    values = dict(values)
    if "country" in values:
        values["country"] = str(values["country"] or "").strip().upper()
    if values.get("tax_id"):
        country = values.get("country", existing.country if existing else "")
        values["tax_id"] = normalize_vat_number(str(values["tax_id"]), country or None)
    return values


def _check_vat_if_needed(
    existing: BillingInformation | None, tax_id: str, country: str
) -> VatCheckResult | None:
    """A VIES answer for ``tax_id`` when one is needed, else ``None`` (keep the stored status)."""
    if not tax_id:
        return None
    # A number VIES already answered for keeps its answer; a new one (or one VIES could not
    # check yet) is asked about now, its cache answering for numbers seen recently.
    settled = (VatValidationStatus.VALID, VatValidationStatus.INVALID)
    known = existing is not None and existing.tax_id == tax_id
    if known and existing is not None and existing.vat_validation_status in settled:
        return None
    return validate_vies(tax_id, country)


def _apply_vat_result(
    billing: BillingInformation, result: VatCheckResult, now: dt.datetime
) -> None:
    """Record a VIES answer on ``billing``, scheduling a recheck when VIES could not answer."""
    status = _STATUS_FROM_VIES.get(str(result.status), VatValidationStatus.ERROR)
    billing.vat_validation_status = status
    if status == VatValidationStatus.UNAVAILABLE:
        billing.vat_check_attempts += 1
        billing.vat_next_check_at = now + recheck_delay(billing.vat_check_attempts)
        return
    billing.vat_check_attempts = 0
    billing.vat_next_check_at = None
    if status == VatValidationStatus.VALID:
        billing.vat_validated_at = result.checked_at or now
        billing.vat_consultation_number = result.request_identifier
    else:
        billing.vat_validated_at = None
        billing.vat_consultation_number = ""


def _clear_vat_state(billing: BillingInformation) -> None:
    billing.vat_validation_status = VatValidationStatus.NOT_REQUIRED
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


# --- the tax decision -------------------------------------------------------------------------


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
    from django_payments_sync.interactor.tax import is_eu_member_state

    previous_exemption: str = TaxExemption.NONE
    previous_status: str = VatValidationStatus.NOT_REQUIRED
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


# --- VIES -------------------------------------------------------------------------------------


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
            _apply_vat_result(billing, result, now)
            if billing.vat_validation_status in RECHECK_STATUSES:
                report.still_pending.append(pk)
            if billing.vat_validation_status == previous_status:
                billing.save(
                    update_fields=["vat_check_attempts", "vat_next_check_at", "updated_at"]
                )
                continue
            report.changed.append(pk)
            process_tax(billing)
            _mark_customer_pending(billing.customer)
            _push_after_commit(billing.customer_id)
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


# --- the provider -----------------------------------------------------------------------------


def _mark_customer_pending(customer: Customer) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        sync_status=SyncStatus.PENDING, updated_at=timezone.now()
    )
    customer.sync_status = SyncStatus.PENDING


def _push_after_commit(customer_pk: int) -> None:
    """Push the customer to the provider once the saved data is committed (if AUTO_SYNC)."""
    if not payments_settings.AUTO_SYNC:
        return
    transaction.on_commit(lambda: push_customer(customer_pk), robust=True)


def push_customer(customer_pk: int) -> bool:
    """Push a customer's data and tax status to the provider now; ``False`` if it failed.

    On failure the customer stays ``pending`` (``failed`` for an error retrying cannot fix),
    with the error recorded, for ``payments_sync push`` or the next save to retry.
    """
    from django_payments_sync.sync.customers import sync_customer

    customer = Customer.objects.filter(pk=customer_pk).first()
    if customer is None:
        return False
    try:
        # sync_customer never raises a provider error: it marks the row and reports it.
        result = sync_customer(customer)
    except Exception as exc:
        # Whatever else broke, the data is committed: keep the customer pending for a retry.
        logger.exception("Pushing customer %s to the provider failed", customer_pk)
        Customer.objects.filter(pk=customer_pk).update(
            sync_status=SyncStatus.PENDING, sync_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False
    return result.ok


def _refresh_sync_state(customer: Customer) -> None:
    """Reload the sync columns the after-commit push may have changed (outside a transaction)."""
    state = Customer.objects.filter(pk=customer.pk).values("sync_status", "sync_error", "synced_at")
    row = state.first()
    if row is not None:
        customer.sync_status = row["sync_status"]
        customer.sync_error = row["sync_error"]
        customer.synced_at = row["synced_at"]


# --- the customer portal ----------------------------------------------------------------------


def portal_return_url(return_url: str | None, request: HttpRequest | None = None) -> str:
    """Where the provider's portal links back to: ``return_url``, which must lead to one of
    our hosts (no open redirect: the adapter's ``is_safe_url``), else ``PORTAL_RETURN_URL``,
    else the site's root. A path is made absolute against ``request``; without one it must
    already be absolute. Raises :class:`PolicyViolation` (``unsafe_redirect``)."""
    if return_url:
        if not get_adapter().is_safe_url(return_url, request):
            raise PolicyViolation(
                _("The return URL must be a path or an address on one of this site's hosts."),
                code="unsafe_redirect",
            )
        url = return_url
    else:
        url = payments_settings.PORTAL_RETURN_URL or "/"
    if url.startswith("/"):
        if request is None:
            raise PolicyViolation(
                _("Outside a request, the portal's return URL must be an absolute URL."),
                code="unsafe_redirect",
            )
        url = request.build_absolute_uri(url)
    return url


def get_customer_management_portal_link(
    customer: Customer, return_url: str | None = None, *, request: HttpRequest | None = None
) -> str:
    """The URL of the provider's customer portal for ``customer``, coming back to ``return_url``.

    Creates the provider customer first if it does not exist yet. ``return_url`` is checked
    and resolved by :func:`portal_return_url`: an address on one of our hosts, or a path with
    ``request``; an address elsewhere raises :class:`PolicyViolation` (``unsafe_redirect``),
    from host code as from the API.
    """
    return_url = portal_return_url(return_url, request)
    from django_payments_sync.sync.accounts import check_account
    from django_payments_sync.sync.customers import ensure_provider_customer

    check_account(get_backend())
    provider_id = ensure_provider_customer(customer)
    return get_backend().create_portal_session(provider_id, return_url).url


__all__ = [
    "BILLING_FIELDS",
    "RecheckReport",
    "create_user_billing_info",
    "get_billing_info",
    "get_customer_management_portal_link",
    "portal_return_url",
    "process_tax",
    "push_customer",
    "recheck_delay",
    "recheck_pending_vat",
    "update_billing_info",
    "validate_vies",
]
