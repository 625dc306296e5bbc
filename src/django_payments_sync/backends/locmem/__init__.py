"""An in-memory payment provider for tests: keeps state in the process and records every call.

One class, :class:`LocmemBackend`, made of one part per area (customers, catalog, billing,
lifecycle, webhooks) over :class:`~django_payments_sync.backends.locmem.state.LocmemState`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from django_payments_sync.backends.locmem.billing import LocmemBilling
from django_payments_sync.backends.locmem.catalog import LocmemCatalog
from django_payments_sync.backends.locmem.coupons import LocmemCoupons
from django_payments_sync.backends.locmem.customers import LocmemCustomers
from django_payments_sync.backends.locmem.entitlements import LocmemEntitlements
from django_payments_sync.backends.locmem.lifecycle import LocmemLifecycle
from django_payments_sync.backends.locmem.meters import LocmemMeters
from django_payments_sync.backends.locmem.payments import LocmemPayments
from django_payments_sync.backends.locmem.state import (
    SIGNATURE_HEADER,
    WRITE_OPERATIONS,
    LocmemCall,
    sign_locmem_payload,
)
from django_payments_sync.backends.locmem.webhooks import LocmemWebhooks
from django_payments_sync.backends.types import (
    Capability,
    CheckoutSession,
    CustomerData,
    EventKind,
    SubscriptionData,
)

__all__ = [
    "SIGNATURE_HEADER",
    "WRITE_OPERATIONS",
    "LocmemBackend",
    "LocmemCall",
    "sign_locmem_payload",
]


class LocmemBackend(
    LocmemCustomers,
    LocmemCatalog,
    LocmemBilling,
    LocmemLifecycle,
    LocmemPayments,
    LocmemCoupons,
    LocmemMeters,
    LocmemEntitlements,
    LocmemWebhooks,
):
    """A complete fake provider living in the process, like Django's locmem email backend.

    It generates ids, keeps state, honours idempotency keys, records every call in
    :attr:`calls` and appends a provider-neutral :class:`ProviderEvent` to :attr:`events` for
    every state change (``pop_events()`` hands them over, e.g. to feed the webhook pipeline).
    :meth:`fail_next` makes the next call(s) of an operation raise a given error.
    """

    provider_name = "locmem"
    display_name = "In-memory"
    capabilities = frozenset(Capability)
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "webhook_secret": "locmem-webhook-secret",
        "tolerance": None,
        # Off by default: most tests want the subscription's events, not its payment's.
        "invoice_events": False,
        # What account_id() answers: two backends with different values are two accounts.
        "account": "locmem",
    }

    def account_id(self) -> str:
        """The ``account`` option (not recorded as a call: it is asked before every push)."""
        return str(self.options["account"])

    def default_rate_limit(self) -> float | None:
        """No limit: nothing leaves the process."""
        return None

    # --- test helpers ---------------------------------------------------------------------
    def complete_checkout(self, session_id: str) -> CheckoutSession:
        """Play the customer paying a checkout session: customer, subscription, events."""
        self._record("complete_checkout", (session_id,), {})
        session = self._get(self.checkout_sessions, session_id, "checkout session")
        customer_id = session.customer_id
        if customer_id is None:
            customer = self._new_customer(
                CustomerData(local_id="", email=session.customer_email or "")
            )
            customer_id = customer.id
        subscription_id = None
        if session.mode == "subscription":
            price_id = session.metadata.get("_price_id", "")
            seats = session.metadata.get("_quantity", "1")
            sub = self._new_subscription(
                SubscriptionData(
                    local_id="",
                    customer_id=customer_id,
                    price_id=price_id,
                    quantity=int(seats or 1),
                    metered=not seats,  # a metered price's line has no quantity
                ),
                promotion_code_id=session.metadata.get("_promotion_code"),
            )
            subscription_id = sub.id
        payment_id = None
        if session.mode == "payment":
            quantity = int(session.metadata.get("_quantity", "1"))
            if "_amount" in session.metadata:
                amount, currency = int(session.metadata["_amount"]), session.metadata["_currency"]
            else:
                price = self.prices[session.metadata.get("_price_id", "")]
                amount, currency = price.amount, price.currency
            payment_id = self._new_payment(customer_id, amount * quantity, currency).id
        session = dataclasses.replace(
            session,
            status="complete",
            payment_status="paid",
            customer_id=customer_id,
            subscription_id=subscription_id,
            payment_id=payment_id,
        )
        self.checkout_sessions[session.id] = session
        self._emit(EventKind.CHECKOUT_COMPLETED, "checkout.session", session, customer_id)
        return session
