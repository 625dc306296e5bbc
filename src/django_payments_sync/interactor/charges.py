"""One-off charges: an ad-hoc amount through the provider's checkout, or charged off-session to
the customer's saved payment method; each is an Order (no pricing needed) and a PaymentAttempt.

Charges are for host code (a setup fee, an overage): the amount never comes from the client.
A one-time price is sold through ``POST checkout/`` like any price.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from django_payments_sync.backends.types import CheckoutData, PaymentData
from django_payments_sync.exceptions import CardError, PolicyViolation, ProviderError
from django_payments_sync.interactor import provider
from django_payments_sync.interactor.orders import (
    METADATA_ATTEMPT_KEY,
    METADATA_ORDER_KEY,
)
from django_payments_sync.models import (
    Customer,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
)
from django_payments_sync.sync.payments import settle_charge
from django_payments_sync.sync.snapshots import installation_key


def _terms(
    pricing: Any, amount: int | None, currency: str | None, description: str, quantity: int
) -> tuple[int, str, str]:
    """(amount per unit, currency, description) of a charge: a one-time price's or ad-hoc."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise PolicyViolation("The quantity must be 1 or more.", code="invalid_quantity")
    if pricing is not None:
        if pricing.interval:
            raise PolicyViolation(
                "A recurring price is sold as a subscription, not charged once.",
                code="invalid_pricing",
            )
        return pricing.amount, pricing.currency, description or str(pricing.product)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise PolicyViolation(
            "A charge's amount is 1 or more (minor units).", code="invalid_amount"
        )
    if not currency or len(currency) != 3 or not currency.isalpha():
        raise PolicyViolation(
            "A charge needs an ISO 4217 currency, e.g. 'eur'.", code="invalid_amount"
        )
    if not description.strip():
        raise PolicyViolation(
            "An ad-hoc charge needs a description: the customer sees it.", code="invalid_amount"
        )
    return amount, currency.lower(), description.strip()[:255]


def _new_order(
    customer: Customer, pricing: Any, unit: int, currency: str, description: str, quantity: int
) -> tuple[Order, PaymentAttempt]:
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer,
            pricing=pricing,
            description=description,
            quantity=quantity,
            amount=unit * quantity,
            currency=currency,
            status=OrderStatus.PENDING,
        )
        attempt = PaymentAttempt.objects.create(
            order=order,
            provider=provider.backend().provider_name,
            status=PaymentAttemptStatus.CREATED,
        )
    return order, attempt


def charge_checkout(
    customer: Customer,
    *,
    success_url: str,
    cancel_url: str,
    amount: int | None = None,
    currency: str | None = None,
    description: str = "",
    pricing: Any = None,
    quantity: int = 1,
) -> dict[str, Any]:
    """Open the provider's checkout for a one-off charge; answers ``{"id", "url", "order_id"}``.

    The order is settled by the checkout's events, as any one-time checkout."""
    unit, cur, text = _terms(pricing, amount, currency, description, quantity)
    customer_id = provider.ensure_customer_id(customer)
    price_id = provider.ensure_price_id(pricing) if pricing is not None else ""
    order, attempt = _new_order(customer, pricing, unit, cur, text, quantity)
    data = CheckoutData(
        mode="payment",
        price_id=price_id,
        quantity=quantity,
        success_url=success_url,
        cancel_url=cancel_url,
        customer_id=customer_id,
        client_reference_id=str(order.pk),
        metadata={METADATA_ORDER_KEY: str(order.pk), METADATA_ATTEMPT_KEY: str(attempt.pk)},
        amount=None if price_id else unit,
        currency="" if price_id else cur,
        description=text,
    )
    try:
        session = provider.backend().create_checkout_session(
            data, idempotency_key=installation_key(f"checkout-{attempt.pk}")
        )
    except ProviderError as exc:
        settle_charge(attempt, None, failure=exc.user_message)
        raise
    attempt.external_id = session.id
    attempt.checkout_url = session.url
    attempt.save(update_fields=["external_id", "checkout_url", "updated_at"])
    return {"id": session.id, "url": session.url, "order_id": order.pk}


def charge_off_session(
    customer: Customer,
    *,
    amount: int | None = None,
    currency: str | None = None,
    description: str = "",
    pricing: Any = None,
    quantity: int = 1,
) -> Order:
    """Charge the customer's saved default payment method once, without them; the order.

    Paid at once when the provider says so; a declined card fails the order (``CardError``
    raised, ``payment_failed`` sent); an answer still pending (or lost) is settled by the
    payment's events. ``PolicyViolation`` ``no_payment_method`` without a saved method.
    """
    unit, cur, text = _terms(pricing, amount, currency, description, quantity)
    customer_id = provider.ensure_customer_id(customer)
    order, attempt = _new_order(customer, pricing, unit, cur, text, quantity)
    data = PaymentData(
        customer_id=customer_id,
        amount=unit * quantity,
        currency=cur,
        description=text,
        metadata={METADATA_ORDER_KEY: str(order.pk), METADATA_ATTEMPT_KEY: str(attempt.pk)},
    )
    try:
        payment = provider.backend().create_payment(
            data, idempotency_key=installation_key(f"charge-{attempt.pk}")
        )
    except CardError as exc:
        settle_charge(attempt, None, failure=exc.user_message)
        raise
    except ProviderError as exc:
        if exc.retryable:
            raise  # the outcome is not known: the payment's events settle the order
        settle_charge(attempt, None, failure=exc.user_message)
        if exc.code == "no_payment_method":
            raise PolicyViolation(
                "There is no saved payment method to charge: use a checkout instead.",
                code="no_payment_method",
            ) from exc
        raise
    return settle_charge(attempt, payment)


class ChargeService:
    """The interactor's one-off charges (``payments.charges``)."""

    checkout = staticmethod(charge_checkout)
    off_session = staticmethod(charge_off_session)
