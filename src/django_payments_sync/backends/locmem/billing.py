"""The in-memory backend: subscriptions, checkout and portal sessions, invoices."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django_payments_sync.backends.locmem.state import (
    LocmemState,
    _changed,
    _period,
)
from django_payments_sync.backends.types import (
    CheckoutData,
    CheckoutSession,
    EventKind,
    PortalSession,
    ProviderInvoice,
    ProviderSubscription,
    SubscriptionData,
)
from django_payments_sync.exceptions import (
    PermanentProviderError,
)


class LocmemBilling(LocmemState):
    """Subscriptions, checkout and portal sessions, invoices."""

    # --- subscriptions --------------------------------------------------------------------
    def _new_subscription(
        self, data: SubscriptionData, *, promotion_code_id: str | None = None
    ) -> ProviderSubscription:
        self._get(self.customers, data.customer_id, "customer")
        price = self._get(self.prices, data.price_id, "price")
        if price.interval is None:
            raise PermanentProviderError(
                "A subscription needs a recurring price.", param="items[0][price]"
            )
        if not price.active:
            raise PermanentProviderError("The price is archived.", param="items[0][price]")
        metered = price.meter_id is not None
        if metered and not data.metered:
            raise PermanentProviderError(
                "A metered price takes no quantity.", param="items[0][quantity]"
            )
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        trial_end = (
            now + dt.timedelta(days=data.trial_period_days) if data.trial_period_days else None
        )
        sub = ProviderSubscription(
            id=self._new_id("sub"),
            customer_id=data.customer_id,
            status="trialing" if trial_end else "active",
            price_id=price.id,
            quantity=1 if metered else data.quantity,
            item_id=self._new_id("si"),
            current_period_start=now,
            current_period_end=now + _period(price),
            trial_end=trial_end,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.subscriptions[sub.id] = sub
        if promotion_code_id is not None:
            # A checkout's code: its first invoice is discounted already.
            self.apply_promotion_code(sub.id, promotion_code_id)
        self._emit(EventKind.SUBSCRIPTION_CREATED, "subscription", sub, sub.customer_id)
        # The first period is invoiced (and paid) at once; a trial's first invoice is zero,
        # and so is a metered price's (its usage is billed at the period's end).
        amount = 0 if trial_end or metered else price.amount * data.quantity
        off = self._discount(sub, amount, use=True)
        invoice = ProviderInvoice(
            id=self._new_id("in"),
            customer_id=sub.customer_id,
            subscription_id=sub.id,
            status="paid",
            amount_due=amount - off,
            amount_paid=amount - off,
            subtotal=amount,
            amount_discount=off,
            total=amount - off,
            currency=price.currency,
            hosted_invoice_url=f"https://invoice.locmem.invalid/{sub.id}",
            created=now,
        )
        self.invoices[invoice.id] = invoice
        if self.options["invoice_events"]:
            self._emit(EventKind.INVOICE_PAID, "invoice", invoice, sub.customer_id)
        return sub

    def create_subscription(
        self, data: SubscriptionData, *, idempotency_key: str
    ) -> ProviderSubscription:
        self._record("create_subscription", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_subscription", data)
        if earlier is not None:
            return self.subscriptions.get(earlier.id, earlier)
        sub = self._new_subscription(data)
        self._remember(idempotency_key, "create_subscription", data, sub)
        return sub

    def update_subscription(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        quantity: int | None = None,
        proration_behavior: str | None = None,
        cancel_at_period_end: bool | None = None,
        idempotency_key: str | None = None,
    ) -> ProviderSubscription:
        self._record(
            "update_subscription",
            (subscription_id,),
            {
                "price_id": price_id,
                "quantity": quantity,
                "proration_behavior": proration_behavior,
                "cancel_at_period_end": cancel_at_period_end,
                "idempotency_key": idempotency_key,
            },
        )
        old = self._get(self.subscriptions, subscription_id, "subscription")
        if old.status == "canceled":
            raise PermanentProviderError(
                "A canceled subscription can only update its cancellation details.",
                user_message="This subscription is already canceled.",
            )
        changes: dict[str, Any] = {}
        if price_id is not None:
            price = self._get(self.prices, price_id, "price")
            if price.interval is None:
                raise PermanentProviderError("A subscription needs a recurring price.")
            changes["price_id"] = price_id
        metered = self.prices[changes.get("price_id", old.price_id)].meter_id is not None
        if quantity is not None and metered:
            raise PermanentProviderError(
                "A metered price takes no quantity.", param="items[0][quantity]"
            )
        if metered:
            changes["quantity"] = 1
        if quantity is not None:
            if quantity < 1:
                raise PermanentProviderError("Quantity must be at least 1.", param="quantity")
            changes["quantity"] = quantity
        if cancel_at_period_end is not None:
            changes["cancel_at_period_end"] = cancel_at_period_end
        new = dataclasses.replace(old, **changes)
        self.subscriptions[subscription_id] = new
        self._emit(
            EventKind.SUBSCRIPTION_UPDATED,
            "subscription",
            new,
            new.customer_id,
            _changed(old, new),
        )
        return new

    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = True
    ) -> ProviderSubscription:
        self._record("cancel_subscription", (subscription_id,), {"at_period_end": at_period_end})
        sub = self._get(self.subscriptions, subscription_id, "subscription")
        if sub.status == "canceled":
            return sub
        if at_period_end:
            new = dataclasses.replace(sub, cancel_at_period_end=True)
            self.subscriptions[sub.id] = new
            self._emit(
                EventKind.SUBSCRIPTION_UPDATED,
                "subscription",
                new,
                sub.customer_id,
                _changed(sub, new),
            )
            return new
        return self._end_subscription(sub)

    def list_subscriptions(self, customer_id: str | None = None) -> Iterator[ProviderSubscription]:
        self._record("list_subscriptions", (), {"customer_id": customer_id})
        return iter(
            [s for s in self.subscriptions.values() if customer_id in (None, s.customer_id)]
        )

    # --- checkout, portal, invoices -------------------------------------------------------
    def create_checkout_session(
        self, data: CheckoutData, *, idempotency_key: str
    ) -> CheckoutSession:
        self._record("create_checkout_session", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_checkout_session", data)
        if earlier is not None:
            return earlier
        if data.mode not in ("subscription", "payment"):
            raise PermanentProviderError(f"Invalid mode {data.mode!r}.", param="mode")
        if not data.price_id and data.mode == "payment":
            return self._ad_hoc_checkout(data, idempotency_key)
        price = self._get(self.prices, data.price_id, "price")
        if (price.meter_id is not None) != data.metered:
            raise PermanentProviderError(
                "A metered price takes no quantity; a licensed one needs one.",
                param="line_items[0][quantity]",
            )
        if (data.mode == "subscription") != (price.interval is not None):
            raise PermanentProviderError(
                f"A {data.mode} checkout needs a "
                f"{'recurring' if data.mode == 'subscription' else 'one-time'} price.",
                param="line_items[0][price]",
            )
        if data.customer_id is not None:
            self._get(self.customers, data.customer_id, "customer")
        session_id = self._new_id("cs")
        session = CheckoutSession(
            id=session_id,
            url=f"https://checkout.locmem.invalid/{session_id}",
            mode=data.mode,
            status="open",
            payment_status="unpaid",
            customer_id=data.customer_id,
            customer_email=data.customer_email,
            client_reference_id=data.client_reference_id,
            # What complete_checkout() needs; a real provider keeps it on the line items.
            metadata={
                **data.metadata,
                "_price_id": price.id,
                "_quantity": "" if data.metered else str(data.quantity),
                **({"_promotion_code": data.promotion_code_id} if data.promotion_code_id else {}),
            },
        )
        self.checkout_sessions[session.id] = session
        self._remember(idempotency_key, "create_checkout_session", data, session)
        return session

    def _ad_hoc_checkout(self, data: CheckoutData, idempotency_key: str) -> CheckoutSession:
        if not data.amount or data.amount < 1 or not data.currency:
            raise PermanentProviderError(
                "An ad-hoc checkout needs an amount and a currency.", param="line_items"
            )
        session_id = self._new_id("cs")
        session = CheckoutSession(
            id=session_id,
            url=f"https://checkout.locmem.invalid/{session_id}",
            mode="payment",
            status="open",
            payment_status="unpaid",
            customer_id=data.customer_id,
            customer_email=data.customer_email,
            client_reference_id=data.client_reference_id,
            metadata={
                **data.metadata,
                "_amount": str(data.amount),
                "_currency": data.currency,
                "_quantity": str(data.quantity),
            },
        )
        self.checkout_sessions[session.id] = session
        self._remember(idempotency_key, "create_checkout_session", data, session)
        return session

    def create_portal_session(self, customer_id: str, return_url: str) -> PortalSession:
        self._record("create_portal_session", (customer_id, return_url), {})
        self._get(self.customers, customer_id, "customer")
        session_id = self._new_id("bps")
        session = PortalSession(
            id=session_id,
            url=f"https://billing.locmem.invalid/{session_id}",
            customer_id=customer_id,
            return_url=return_url,
        )
        self.portal_sessions[session.id] = session
        return session

    def list_invoices(self, customer_id: str) -> Iterator[ProviderInvoice]:
        self._record("list_invoices", (customer_id,), {})
        return iter([i for i in self.invoices.values() if i.customer_id == customer_id])
