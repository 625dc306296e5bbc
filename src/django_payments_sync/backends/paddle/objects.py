"""Paddle's entities (API answers and notification ``data``, as JSON dicts) as neutral types.

Paddle keeps what the library calls metadata in ``custom_data``; the backend keeps a few keys
of its own there too (:data:`RESERVED_KEYS`), which never show in the neutral ``metadata``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django_payments_sync.backends.types import (
    Address,
    CheckoutSession,
    ProviderCustomer,
    ProviderInvoice,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
)

#: ``custom_data`` keys of the backend's own: a customer's recorded tax exemption (Paddle, the
#: merchant of record, decides tax itself), a tax id's type, a checkout's reference and mode,
#: and the catalog price a subscription's trial copy stands for.
TAX_EXEMPTION_KEY = "payments_sync_tax_exemption"
TAX_ID_TYPE_KEY = "payments_sync_tax_id_type"
REFERENCE_KEY = "payments_sync_reference"
CUSTOMER_EMAIL_KEY = "payments_sync_customer_email"
CATALOG_PRICE_KEY = "payments_sync_catalog_price"
SUCCESS_URL_KEY = "payments_sync_success_url"
CANCEL_URL_KEY = "payments_sync_cancel_url"
RESERVED_KEYS = frozenset(
    {
        TAX_EXEMPTION_KEY,
        TAX_ID_TYPE_KEY,
        REFERENCE_KEY,
        CUSTOMER_EMAIL_KEY,
        CATALOG_PRICE_KEY,
        SUCCESS_URL_KEY,
        CANCEL_URL_KEY,
    }
)

#: Transaction origins of a checkout (the others are renewals and changes of a subscription).
CHECKOUT_ORIGINS = frozenset({"web", "api"})


def is_checkout(transaction: Mapping[str, Any]) -> bool:
    """A transaction for a checkout: opened on the web or through the API, collected
    automatically (a manually collected one is an invoice)."""
    return (
        transaction.get("origin") in CHECKOUT_ORIGINS
        and transaction.get("collection_mode") != "manual"
    )


#: Transaction statuses once paid.
PAID_STATUSES = frozenset({"paid", "completed"})


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def to_int(value: Any, default: int = 0) -> int:
    """Paddle sends amounts as strings of minor units ("1500"); never raises."""
    if isinstance(value, bool) or value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def timestamp(value: Any) -> dt.datetime | None:
    """An RFC 3339 time (``2024-03-15T10:32:38.286848Z``, microseconds kept); ``None`` else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def custom_data(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict(mapping(obj.get("custom_data")))


def metadata_of(obj: Mapping[str, Any]) -> dict[str, str]:
    """The neutral metadata: ``custom_data``'s flat values without the backend's own keys."""
    return {
        str(k): v if isinstance(v, str) else str(v)
        for k, v in custom_data(obj).items()
        if k not in RESERVED_KEYS and not isinstance(v, Mapping | list)
    }


def address_of(obj: Mapping[str, Any]) -> Address:
    return Address(
        line1=text(obj.get("first_line")),
        line2=text(obj.get("second_line")),
        city=text(obj.get("city")),
        postal_code=text(obj.get("postal_code")),
        state=text(obj.get("region")),
        country=text(obj.get("country_code")),
    )


def active(obj: Mapping[str, Any]) -> bool:
    return obj.get("status", "active") == "active"


def customer_state(
    obj: Mapping[str, Any],
    addresses: Iterable[Mapping[str, Any]] | None = None,
    businesses: Iterable[Mapping[str, Any]] | None = None,
) -> ProviderCustomer:
    """A customer; its address is the first active address given, its tax ids the tax
    identifiers of the active businesses given (``None``: not read)."""
    address = next((address_of(a) for a in addresses or () if active(a)), None)
    tax_ids = (
        None
        if businesses is None
        else tuple(
            (t.type, t.value) for t in map(tax_id_state, businesses) if t.value and active_tax(t)
        )
    )
    return ProviderCustomer(
        id=text(obj.get("id")),
        email=text(obj.get("email")),
        name=text(obj.get("name")),
        tax_exemption=text(custom_data(obj).get(TAX_EXEMPTION_KEY)) or "none",
        address=address,
        metadata=metadata_of(obj),
        created=timestamp(obj.get("created_at")),
        tax_ids=tax_ids,
    )


def active_tax(tax_id: ProviderTaxId) -> bool:
    return tax_id.verification_status != "archived"


def tax_id_state(obj: Mapping[str, Any]) -> ProviderTaxId:
    """A business as the tax id it carries (``tax_identifier``). Paddle checks the number
    itself at checkout and reports no verification: ``unavailable``; ``archived`` for an
    archived business (the backend's removal of a tax id)."""
    return ProviderTaxId(
        id=text(obj.get("id")),
        customer_id=text(obj.get("customer_id")),
        type=text(custom_data(obj).get(TAX_ID_TYPE_KEY)) or "eu_vat",
        value=text(obj.get("tax_identifier")),
        verification_status="unavailable" if active(obj) else "archived",
    )


def product_state(obj: Mapping[str, Any]) -> ProviderProduct:
    return ProviderProduct(
        id=text(obj.get("id")),
        name=text(obj.get("name")),
        description=text(obj.get("description")),
        active=active(obj),
        metadata=metadata_of(obj),
    )


def price_state(obj: Mapping[str, Any]) -> ProviderPrice:
    unit = mapping(obj.get("unit_price"))
    cycle = mapping(obj.get("billing_cycle"))
    return ProviderPrice(
        id=text(obj.get("id")),
        product_id=text(obj.get("product_id")),
        amount=to_int(unit.get("amount")),
        currency=text(unit.get("currency_code")).lower(),
        interval=text(cycle.get("interval")) or None,
        interval_count=to_int(cycle.get("frequency"), 1) or 1,
        active=active(obj),
        nickname=text(obj.get("name")),
        metadata=metadata_of(obj),
    )


def is_trial_copy(price: Mapping[str, Any]) -> bool:
    """A price the backend made for one subscription's trial (see ``CATALOG_PRICE_KEY``)."""
    return bool(custom_data(price).get(CATALOG_PRICE_KEY)) or price.get("type") == "custom"


def _first_item(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    items = obj.get("items")
    first = items[0] if isinstance(items, list) and items else None
    return mapping(first)


def item_price_id(item: Mapping[str, Any]) -> str:
    """The catalog price of a subscription or transaction item (a trial's copy names it)."""
    price = mapping(item.get("price"))
    return (
        text(custom_data(price).get(CATALOG_PRICE_KEY))
        or text(price.get("id"))
        or text(item.get("price_id"))
    )


def subscription_state(obj: Mapping[str, Any]) -> ProviderSubscription:
    """A subscription: the price and quantity of its first item, its billing period, a
    scheduled cancellation as ``cancel_at_period_end``."""
    item = _first_item(obj)
    period = mapping(obj.get("current_billing_period"))
    trial = mapping(item.get("trial_dates"))
    scheduled = mapping(obj.get("scheduled_change"))
    status = text(obj.get("status"))
    canceled_at = timestamp(obj.get("canceled_at"))
    return ProviderSubscription(
        id=text(obj.get("id")),
        customer_id=text(obj.get("customer_id")),
        status=status,
        price_id=item_price_id(item),
        quantity=to_int(item.get("quantity"), 1) or 1,
        item_id=item_price_id(item),
        current_period_start=timestamp(period.get("starts_at")),
        current_period_end=timestamp(period.get("ends_at")),
        trial_end=timestamp(trial.get("ends_at")),
        cancel_at_period_end=scheduled.get("action") == "cancel",
        canceled_at=canceled_at,
        ended_at=canceled_at if status == "canceled" else None,
        metadata=metadata_of(obj),
    )


def is_recurring(transaction: Mapping[str, Any]) -> bool:
    items = transaction.get("items")
    return any(
        mapping(mapping(i).get("price")).get("billing_cycle")
        for i in (items if isinstance(items, list) else ())
    ) or bool(transaction.get("subscription_id"))


def _total(transaction: Mapping[str, Any]) -> int:
    totals = mapping(mapping(transaction.get("details")).get("totals"))
    return to_int(totals.get("grand_total", totals.get("total")))


def checkout_state(obj: Mapping[str, Any]) -> CheckoutSession:
    """A transaction opened for Paddle's hosted checkout, as a checkout session."""
    status = text(obj.get("status"))
    data = custom_data(obj)
    checkout = mapping(obj.get("checkout"))
    paid = status in PAID_STATUSES or (status == "billed" and _total(obj) == 0)
    return CheckoutSession(
        id=text(obj.get("id")),
        url=text(checkout.get("url")),
        mode="subscription" if is_recurring(obj) else "payment",
        status="complete"
        if paid or status == "billed"
        else ("expired" if status == "canceled" else "open"),
        payment_status=("no_payment_required" if paid and _total(obj) == 0 else "paid")
        if paid
        else "unpaid",
        customer_id=text(obj.get("customer_id")) or None,
        customer_email=text(data.get(CUSTOMER_EMAIL_KEY)) or None,
        subscription_id=text(obj.get("subscription_id")) or None,
        client_reference_id=text(data.get(REFERENCE_KEY)) or None,
        metadata=metadata_of(obj),
    )


#: Paddle's transaction statuses -> an invoice's.
_INVOICE_STATUSES = {
    "draft": "draft",
    "ready": "draft",
    "billed": "open",
    "past_due": "open",
    "paid": "paid",
    "completed": "paid",
    "canceled": "void",
}


def invoice_state(obj: Mapping[str, Any]) -> ProviderInvoice:
    """A transaction as an invoice (Paddle's invoices are its billed transactions)."""
    status = text(obj.get("status"))
    total = _total(obj)
    totals = mapping(mapping(obj.get("details")).get("totals"))
    return ProviderInvoice(
        id=text(obj.get("id")),
        customer_id=text(obj.get("customer_id")),
        subscription_id=text(obj.get("subscription_id")) or None,
        status=_INVOICE_STATUSES.get(status, status),
        amount_due=total,
        amount_paid=total if status in PAID_STATUSES else 0,
        currency=text(obj.get("currency_code")).lower(),
        # Paddle's invoice PDF is a link the API makes on request, not part of the entity.
        hosted_invoice_url=None,
        created=timestamp(obj.get("created_at")),
        # Paddle's totals: subtotal before the discount, tax on what the discount leaves.
        subtotal=to_int(totals.get("subtotal")),
        amount_discount=to_int(totals.get("discount")),
        tax=to_int(totals.get("tax")),
        total=to_int(totals.get("total")) or total,
    )
