"""Signals sent to host code, each after the transaction that caused it commits."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

#: A local customer was created (by the library or from a provider event).
#: Arguments: ``sender`` (the Customer model), ``customer``, ``created_from`` ("local" |
#: "checkout" | "webhook" | "reconcile").
customer_created = Signal()

#: A customer's billing information was saved.
#: Arguments: ``sender`` (the BillingInformation model), ``billing_information``, ``customer``.
billing_info_updated = Signal()

#: The tax decision of a customer changed (exemption or VAT-number validation status).
#: Arguments: ``sender`` (the BillingInformation model), ``billing_information``, ``customer``,
#: ``tax_exemption``, ``vat_validation_status``, ``previous_tax_exemption``,
#: ``previous_vat_validation_status``.
tax_status_changed = Signal()

#: A provider checkout finished and was paid (or needed no payment).
#: Arguments: ``sender`` (the PaymentAttempt model), ``payment_attempt``, ``order``,
#: ``customer``, ``subscription`` (or ``None`` for one-time payments), ``user_created`` (bool).
checkout_completed = Signal()

#: A local subscription was created (from the provider's event or a local call).
#: Arguments: ``sender`` (the Subscription model), ``subscription``, ``customer``.
subscription_created = Signal()

#: A subscription's status, price, quantity or period changed.
#: Arguments: ``sender`` (the Subscription model), ``subscription``, ``customer``,
#: ``previous_status``, ``changed_fields`` (a tuple of field names).
subscription_updated = Signal()

#: A subscription was canceled (now, or at the end of its period when ``at_period_end``).
#: Arguments: ``sender`` (the Subscription model), ``subscription``, ``customer``,
#: ``at_period_end`` (bool).
subscription_canceled = Signal()

#: A subscription's payment collection was paused (it keeps its status; access stops).
#: Arguments: ``sender`` (the Subscription model), ``subscription``, ``customer``,
#: ``behavior`` ("keep_as_draft" | "mark_uncollectible" | "void"), ``resumes_at`` (or ``None``).
subscription_paused = Signal()

#: A subscription's paused payment collection resumed.
#: Arguments: ``sender`` (the Subscription model), ``subscription``, ``customer``.
subscription_resumed = Signal()

#: A failed payment of a subscription was paid on a later attempt (dunning recovered it).
#: Arguments: ``sender`` (the Invoice model), ``invoice``, ``customer``, ``subscription``
#: (or ``None``), ``attempts`` (how many attempts it took).
payment_recovered = Signal()

#: A payment needs the customer (authentication, or another payment method) on the
#: provider's hosted invoice page.
#: Arguments: ``sender`` (the Invoice model), ``invoice``, ``customer``, ``subscription``
#: (or ``None``), ``hosted_invoice_url``.
payment_action_required = Signal()

#: The provider announced that a subscription's trial ends soon (Stripe: three days ahead).
#: Arguments: ``sender`` (the Subscription model), ``subscription``, ``customer``,
#: ``trial_end`` (datetime).
subscription_trial_ending = Signal()

#: A payment (an invoice or a one-time checkout) succeeded.
#: Arguments: ``sender`` (the Subscription or Order model), ``customer``, ``subscription``
#: (or ``None``), ``order`` (or ``None``), ``amount`` (minor units), ``currency``,
#: ``invoice_id`` (the provider's id, or ``None``), ``hosted_invoice_url`` (or ``None``).
payment_succeeded = Signal()

#: A payment failed.
#: Arguments: ``sender`` (the Subscription or Order model), ``customer``, ``subscription``
#: (or ``None``), ``order`` (or ``None``), ``amount`` (minor units), ``currency``,
#: ``invoice_id`` (or ``None``), ``hosted_invoice_url`` (or ``None``), ``failure_message``;
#: for an invoice also ``attempt_count`` (attempts so far) and ``next_payment_attempt`` (the
#: provider's next retry, ``None`` after the last one: the final notice).
payment_failed = Signal()

#: A refund of an order's payment was made and counts (pending or succeeded at the provider),
#: whether made here or at the provider. Arguments: ``sender`` (the Order model), ``order``,
#: ``refund`` (the Refund row), ``customer``, ``amount`` (minor units, this refund's),
#: ``currency``, ``fully_refunded`` (bool: nothing of the order is left to refund).
order_refunded = Signal()

#: A webhook event was applied (status ``processed`` or ``ignored``).
#: Arguments: ``sender`` (the WebhookEvent model), ``event`` (the WebhookEvent row),
#: ``provider_event`` (the parsed :class:`~django_payments_sync.backends.types.ProviderEvent`).
webhook_event_processed = Signal()


def send_after_commit(
    signal: Signal, *, sender: Any, using: str | None = None, **kwargs: Any
) -> None:
    """Send ``signal`` once the current transaction commits (at once outside a transaction).

    A receiver's error is logged, not raised: the change it reacts to is already committed, and
    a failing mail hook must not make the provider retry a webhook that was applied.
    """

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "Receiver %r of a django-payments-sync signal failed",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send, using=using)
