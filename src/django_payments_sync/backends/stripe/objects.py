"""Stripe's objects (API answers and event payloads) as the library's neutral types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django_payments_sync.backends.types import (
    Address,
    CheckoutSession,
    InvoiceLine,
    InvoicePreview,
    ProviderCustomer,
    ProviderInvoice,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
)
from django_payments_sync.choices import VatStatus


def _id_of(value: Any) -> str | None:
    """An id from a field that holds either the id or the expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


def stripe_customer_id(obj: Mapping[str, Any]) -> str | None:
    """The Stripe customer a Stripe object belongs to (the object itself for a customer)."""
    if obj.get("object") == "customer":
        return _id_of(obj.get("id"))
    customer = _id_of(obj.get("customer"))
    if customer:
        return customer
    owner = obj.get("owner")
    if isinstance(owner, Mapping):
        return _id_of(owner.get("customer"))
    return None


# --- Stripe objects in events -> provider-neutral types -------------------------------------
def from_timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None  # a time no calendar holds


def _int(value: Any, default: int) -> int:
    """A count or amount; ``default`` for a value of another type (never raises)."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return int(value) if isinstance(value, str | float) else default
    except (ValueError, OverflowError):
        return default


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, Mapping) else {}


def stripe_customer_state(obj: Mapping[str, Any]) -> ProviderCustomer:
    address = obj.get("address")
    return ProviderCustomer(
        id=_text(obj.get("id")),
        email=_text(obj.get("email")),
        name=_text(obj.get("name")),
        tax_exemption=_text(obj.get("tax_exempt")) or "none",
        address=Address(
            line1=_text(address.get("line1")),
            line2=_text(address.get("line2")),
            city=_text(address.get("city")),
            postal_code=_text(address.get("postal_code")),
            state=_text(address.get("state")),
            country=_text(address.get("country")),
        )
        if isinstance(address, Mapping)
        else None,
        metadata=_metadata(obj),
        created=from_timestamp(obj.get("created")),
        tax_ids=_expanded_tax_ids(obj.get("tax_ids")),
    )


def _expanded_tax_ids(value: Any) -> tuple[tuple[str, str], ...] | None:
    """The ``(type, value)`` pairs of an expanded ``tax_ids`` list; ``None`` when not expanded."""
    if not isinstance(value, Mapping) or not isinstance(value.get("data"), list):
        return None
    return tuple(
        (_text(t.get("type")), _text(t.get("value")))
        for t in value["data"]
        if isinstance(t, Mapping)
    )


def stripe_subscription_state(obj: Mapping[str, Any]) -> ProviderSubscription:
    """The subscription's first item carries its price, quantity and (in current API versions)
    its period; older API versions kept the period on the subscription itself."""
    items = obj.get("items")
    rows = items.get("data") if isinstance(items, Mapping) else None
    first = rows[0] if isinstance(rows, list) and rows else None
    item: Mapping[str, Any] = first if isinstance(first, Mapping) else {}
    price = item.get("price") or item.get("plan")
    period_start = item.get("current_period_start", obj.get("current_period_start"))
    period_end = item.get("current_period_end", obj.get("current_period_end"))
    pause = obj.get("pause_collection")
    pause = pause if isinstance(pause, Mapping) else {}
    return ProviderSubscription(
        id=_text(obj.get("id")),
        customer_id=_id_of(obj.get("customer")) or "",
        status=_text(obj.get("status")),
        price_id=_id_of(price) or "",
        quantity=_int(item.get("quantity"), 1) or 1,
        item_id=_text(item.get("id")),
        current_period_start=from_timestamp(period_start),
        current_period_end=from_timestamp(period_end),
        trial_end=from_timestamp(obj.get("trial_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=from_timestamp(obj.get("canceled_at")),
        ended_at=from_timestamp(obj.get("ended_at")),
        metadata=_metadata(obj),
        pause_behavior=_text(pause.get("behavior")),
        resumes_at=from_timestamp(pause.get("resumes_at")),
    )


def stripe_invoice_state(obj: Mapping[str, Any]) -> ProviderInvoice:
    """An invoice; its subscription moved under ``parent.subscription_details`` in 2025."""
    subscription = _id_of(obj.get("subscription"))
    parent = obj.get("parent")
    if not subscription and isinstance(parent, Mapping):
        details = parent.get("subscription_details")
        if isinstance(details, Mapping):
            subscription = _id_of(details.get("subscription"))
    transitions = obj.get("status_transitions")
    transitions = transitions if isinstance(transitions, Mapping) else {}
    return ProviderInvoice(
        id=_text(obj.get("id")),
        customer_id=_id_of(obj.get("customer")) or "",
        subscription_id=subscription,
        status=_text(obj.get("status")),
        amount_due=_int(obj.get("amount_due"), 0),
        amount_paid=_int(obj.get("amount_paid"), 0),
        currency=_text(obj.get("currency")),
        hosted_invoice_url=_text(obj.get("hosted_invoice_url")) or None,
        invoice_pdf=_text(obj.get("invoice_pdf")) or None,
        created=from_timestamp(obj.get("created")),
        number=_text(obj.get("number")),
        billing_reason=_text(obj.get("billing_reason")),
        subtotal=_int(obj.get("subtotal"), 0),
        tax=_invoice_tax(obj),
        total=_int(obj.get("total"), 0),
        amount_remaining=_int(obj.get("amount_remaining"), 0),
        period_start=from_timestamp(obj.get("period_start")),
        period_end=from_timestamp(obj.get("period_end")),
        paid_at=from_timestamp(transitions.get("paid_at")),
        attempt_count=_int(obj.get("attempt_count"), 0),
        next_payment_attempt=from_timestamp(obj.get("next_payment_attempt")),
        amount_discount=_discounted(obj.get("total_discount_amounts")),
    )


def _discounted(amounts: Any) -> int:
    """The sum of a ``total_discount_amounts`` (or a line's ``discount_amounts``) list."""
    if not isinstance(amounts, list):
        return 0
    return sum(_int(a.get("amount"), 0) for a in amounts if isinstance(a, Mapping))


def _invoice_tax(obj: Mapping[str, Any]) -> int:
    """The tax of an invoice: the sum of ``total_taxes`` (``tax`` in older API versions)."""
    taxes = obj.get("total_taxes")
    if isinstance(taxes, list):
        return sum(_int(t.get("amount"), 0) for t in taxes if isinstance(t, Mapping))
    return _int(obj.get("tax"), 0)


#: The amounts of an invoice: one that is not an integer makes the invoice unreadable.
_INVOICE_AMOUNTS = ("amount_due", "amount_paid", "amount_remaining", "subtotal", "total")


def _readable_invoice(obj: Mapping[str, Any]) -> ProviderInvoice | None:
    """The invoice of an event, or ``None`` when an amount is not an integer: an invoice the
    library cannot account for is not applied (no amount is guessed)."""
    for name in _INVOICE_AMOUNTS:
        value = obj.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return None
    return stripe_invoice_state(obj)


def stripe_preview_state(obj: Mapping[str, Any]) -> InvoicePreview:
    """A preview invoice as the neutral preview: amounts, tax, lines, when it is issued."""
    invoice = stripe_invoice_state(obj)
    lines = obj.get("lines")
    rows = lines.get("data") if isinstance(lines, Mapping) else None
    return InvoicePreview(
        currency=invoice.currency,
        subtotal=invoice.subtotal,
        tax=invoice.tax,
        total=invoice.total,
        amount_due=invoice.amount_due,
        lines=tuple(_line(row) for row in rows or () if isinstance(row, Mapping)),
        date=invoice.next_payment_attempt or invoice.created,
        amount_discount=invoice.amount_discount,
    )


def _line(row: Mapping[str, Any]) -> InvoiceLine:
    parent = row.get("parent")
    details = parent.get("subscription_item_details") if isinstance(parent, Mapping) else None
    pricing = row.get("pricing")
    price = pricing.get("price_details") if isinstance(pricing, Mapping) else None
    period = row.get("period")
    period = period if isinstance(period, Mapping) else {}
    return InvoiceLine(
        description=_text(row.get("description")),
        amount=_int(row.get("amount"), 0),
        quantity=_int(row.get("quantity"), 1),
        proration=bool(details.get("proration")) if isinstance(details, Mapping) else False,
        price_id=_text(price.get("price")) if isinstance(price, Mapping) else "",
        period_start=from_timestamp(period.get("start")),
        period_end=from_timestamp(period.get("end")),
        amount_discount=_discounted(row.get("discount_amounts")),
    )


def stripe_checkout_state(obj: Mapping[str, Any]) -> CheckoutSession:
    """The session, with the name the customer gave (``customer_details.name``)."""
    details = obj.get("customer_details")
    details = details if isinstance(details, Mapping) else {}
    email = _text(details.get("email")) or _text(obj.get("customer_email"))
    session = CheckoutSession(
        id=_text(obj.get("id")),
        url=_text(obj.get("url")),
        mode=_text(obj.get("mode")),
        status=_text(obj.get("status")),
        payment_status=_text(obj.get("payment_status")),
        customer_id=_id_of(obj.get("customer")),
        customer_email=email or None,
        subscription_id=_id_of(obj.get("subscription")),
        client_reference_id=_text(obj.get("client_reference_id")) or None,
        metadata=_metadata(obj),
        customer_name=_text(details.get("name")) or _text(obj.get("customer_name")),
        payment_id=_id_of(obj.get("payment_intent")),
    )
    return session


#: Stripe's ``tax_id.verification.status`` -> the library's VAT status.
STRIPE_VERIFICATION_STATUS = {
    "verified": VatStatus.VALID,
    "unverified": VatStatus.INVALID,
    "pending": VatStatus.PENDING,
    "unavailable": VatStatus.UNAVAILABLE,
}


def stripe_tax_id_state(obj: Mapping[str, Any]) -> ProviderTaxId:
    verification = obj.get("verification")
    status = verification.get("status") if isinstance(verification, Mapping) else None
    return ProviderTaxId(
        id=_text(obj.get("id")),
        customer_id=stripe_customer_id(obj) or "",
        type=_text(obj.get("type")),
        value=_text(obj.get("value")),
        verification_status=STRIPE_VERIFICATION_STATUS.get(_text(status), VatStatus.UNAVAILABLE),
    )


def stripe_product_state(obj: Mapping[str, Any]) -> ProviderProduct:
    return ProviderProduct(
        id=_text(obj.get("id")),
        name=_text(obj.get("name")),
        description=_text(obj.get("description")),
        active=bool(obj.get("active", True)) and not obj.get("deleted"),
        metadata=_metadata(obj),
    )


def stripe_price_state(obj: Mapping[str, Any]) -> ProviderPrice:
    recurring = obj.get("recurring")
    recurring = recurring if isinstance(recurring, Mapping) else {}
    amount = obj.get("unit_amount", obj.get("amount"))
    return ProviderPrice(
        id=_text(obj.get("id")),
        product_id=_id_of(obj.get("product")) or "",
        amount=_int(amount, 0),
        currency=_text(obj.get("currency")),
        interval=_text(recurring.get("interval")) or _text(obj.get("interval")) or None,
        interval_count=_int(recurring.get("interval_count") or obj.get("interval_count"), 1) or 1,
        active=bool(obj.get("active", True)) and not obj.get("deleted"),
        nickname=_text(obj.get("nickname")),
        metadata=_metadata(obj),
        meter_id=(
            _id_of(recurring.get("meter")) or None
            if recurring.get("usage_type") == "metered"
            else None
        ),
    )


def stripe_event_object(object_type: str, obj: Mapping[str, Any]) -> Any:
    """The neutral type of a Stripe event's object (``None`` for types we do not read)."""
    readers: dict[str, Any] = {
        "customer": stripe_customer_state,
        "subscription": stripe_subscription_state,
        "invoice": _readable_invoice,
        "checkout.session": stripe_checkout_state,
        "tax_id": stripe_tax_id_state,
        "product": stripe_product_state,
        "price": stripe_price_state,
        "plan": stripe_price_state,
    }
    from django_payments_sync.backends.stripe.entitlements import stripe_entitlements_state
    from django_payments_sync.backends.stripe.money import (
        stripe_charge_state,
        stripe_payment_intent_state,
        stripe_refund_state,
    )

    readers["entitlements.active_entitlement_summary"] = stripe_entitlements_state
    readers["refund"] = stripe_refund_state
    readers["charge"] = stripe_charge_state
    readers["payment_intent"] = stripe_payment_intent_state
    reader = readers.get(object_type)
    return reader(obj) if reader else None
