"""Billing information: save locally, decide tax (with VIES), push to the provider after commit.

The tax decision and the VIES checks are :mod:`django_payments_sync.tax`'s; their names are
also importable from here, where the billing services used to keep them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from django_payments_sync import signals
from django_payments_sync.backends import get_backend
from django_payments_sync.conf import get_adapter, payments_settings
from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    VatValidationStatus,
)
from django_payments_sync.sync.autosync import suppress_autosync
from django_payments_sync.sync.customers import push_customer, push_customer_after_commit
from django_payments_sync.tax.policy import process_tax
from django_payments_sync.tax.vat import (
    RecheckReport,
    apply_vat_result,
    check_vat_if_needed,
    clear_vat_state,
    recheck_delay,
    recheck_pending_vat,
    validate_vies,
    vat_check_needed,
)

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

#: ``existing`` not read by the caller.
UNREAD: Any = object()

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


def update_billing_info(
    customer: Customer, data: Mapping[str, Any], *, current: BillingInformation | None = None
) -> BillingInformation:
    """Change some fields of ``customer``'s billing information (``DoesNotExist`` if none).

    ``current``: the billing information as the caller just read it (the API's ``PATCH``
    does), which saves reading it again before the VAT check; the save itself re-reads it
    under a row lock, so a change made meanwhile is never overwritten with an old value.
    """
    existing = current if current is not None else get_billing_info(customer)
    if existing is None:
        raise BillingInformation.DoesNotExist(f"Customer {customer.pk} has no billing information.")
    return _save_billing_info(customer, _changed_values(data), existing)


def _changed_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The billing fields ``data`` changes, empty for ``None``."""
    return {name: data[name] or "" for name in BILLING_FIELDS if name in data}


def change_billing_info(
    owner: Any, validate: Callable[[BillingInformation], Mapping[str, Any]]
) -> BillingInformation | None:
    """Change some fields of ``owner``'s billing information; ``None`` if it has none.

    ``validate`` turns the stored billing information into the validated changes (the API's
    ``PATCH`` runs its serializer there). The row is read under its lock, with its customer,
    and a change that needs no VIES answer (an address, a name, a VAT number already checked)
    is saved under that same lock in one transaction. A new VAT number is checked with VIES
    outside any transaction first, as :func:`update_billing_info` does, and the row is locked
    again for the save.
    """
    with transaction.atomic():
        rows = BillingInformation.objects.select_related("customer").filter(customer__owner=owner)
        # Only the billing row is locked where the database can say so (PostgreSQL): the
        # customer row stays free for the webhooks of its provider customer.
        of = ("self",) if connection.features.has_select_for_update_of else ()
        info = rows.select_for_update(of=of).first()
        if info is None:
            return None
        data = validate(info)
        values = _normalized(_changed_values(data), info)
        if not vat_check_needed(info, values.get("tax_id", info.tax_id)):
            return _save_billing_info(info.customer, values, info, locked=True)
    return update_billing_info(info.customer, data, current=info)


def _locked_billing_info(customer: Customer, known: bool) -> BillingInformation:
    """``customer``'s billing information under a row lock, or a new one (not saved yet).

    Saves of one customer's billing information run one at a time: an existing row is locked
    itself (the VIES recheck locks it too); without one, the customer row is locked first, so
    two first saves at once do not both insert (the loser would fail on the unique customer).
    """
    rows = BillingInformation.objects.select_for_update().filter(customer=customer)
    if known:
        found = rows.first()
        if found is not None:
            return found
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    return rows.first() or BillingInformation(customer=customer)


def _save_billing_info(
    customer: Customer, values: dict[str, Any], existing: Any = UNREAD, *, locked: bool = False
) -> BillingInformation:
    """Save ``values`` with the tax decision, and push the customer after commit.

    ``locked``: ``existing`` was just read under its row lock in the caller's transaction, and
    ``values`` normalized against it (needing no VIES answer), so it is saved as it is, not
    read or normalized again.
    """
    if existing is UNREAD:
        existing = get_billing_info(customer)
    if not locked:
        values = _normalized(values, existing)
    tax_id = values.get("tax_id", existing.tax_id if existing else "")
    country = values.get("country", existing.country if existing else "")
    vat_result = None if locked else check_vat_if_needed(existing, tax_id, country)

    # Our own explicit push after commit replaces the automatic one of the save receivers, so
    # the customer is pushed once, after the tax decision, and the caller learns the outcome.
    with transaction.atomic(), suppress_autosync():
        billing = existing if locked else _locked_billing_info(customer, known=existing is not None)
        stored = (billing.tax_exemption, billing.vat_validation_status) if billing.pk else None
        for name, value in values.items():
            setattr(billing, name, value)
        if not billing.tax_id:
            clear_vat_state(billing)
        elif vat_result is not None and billing.tax_id == tax_id:
            apply_vat_result(billing, vat_result, timezone.now())
        elif vat_result is not None:
            # Another save changed the number while VIES answered about the old one: the
            # recheck asks about the number actually stored.
            billing.vat_validation_status = VatValidationStatus.PENDING
            billing.vat_next_check_at = None
        process_tax(billing, previous=stored)
        signals.send_after_commit(
            signals.billing_info_updated,
            sender=BillingInformation,
            billing_information=billing,
            customer=customer,
        )
        # After the push (it runs on commit), ``customer`` holds its sync state.
        push_customer_after_commit(customer)
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
