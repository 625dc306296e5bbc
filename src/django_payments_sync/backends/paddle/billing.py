"""The Paddle backend's subscriptions, checkout, portal and invoices.

A mixin of :class:`~.backend.PaddleBackend` (its ``client`` and ``options``), kept apart so
each module stays readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from paddle_billing import Client
from paddle_billing.Entities.Shared import Checkout, CollectionMode, TransactionStatus
from paddle_billing.Entities.Subscriptions import (
    SubscriptionEffectiveFrom,
    SubscriptionProrationBillingMode,
)
from paddle_billing.Resources.CustomerPortalSessions.Operations import (
    CreateCustomerPortalSession,
)
from paddle_billing.Resources.Subscriptions.Operations import (
    CancelSubscription,
    ListSubscriptions,
    PauseSubscription,
    ResumeSubscription,
    UpdateSubscription,
)
from paddle_billing.Resources.Subscriptions.Operations.Update import SubscriptionUpdateItem
from paddle_billing.Resources.Transactions.Operations import CreateTransaction, ListTransactions
from paddle_billing.Resources.Transactions.Operations.Create import (
    CreateBillingDetails,
    TransactionCreateItem,
    TransactionCreateItemWithPrice,
)
from paddle_billing.Resources.Transactions.Operations.Price import TransactionNonCatalogPrice

from django_payments_sync.backends.paddle import objects
from django_payments_sync.backends.paddle import params as convert
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    CheckoutData,
    CheckoutSession,
    PortalSession,
    ProviderInvoice,
    ProviderSubscription,
    SubscriptionData,
)
from django_payments_sync.exceptions import PermanentProviderError

#: The library's proration behaviours (Stripe's words, the setting's) -> Paddle's modes;
#: Paddle's own mode names are accepted as they are.
PRORATION_MODES = {
    "create_prorations": "prorated_next_billing_period",
    "always_invoice": "prorated_immediately",
    "none": "do_not_bill",
}
#: Transactions that are invoices (billed, or paid), not open checkouts.
INVOICE_STATUSES = [
    TransactionStatus.Billed,
    TransactionStatus.Paid,
    TransactionStatus.Completed,
    TransactionStatus.PastDue,
    TransactionStatus.Canceled,
]


class PaddleBilling:
    client: Client
    options: dict[str, Any]

    @property
    def livemode(self) -> bool:
        raise NotImplementedError

    # --- subscriptions --------------------------------------------------------------------
    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        convert.check_id(subscription_id, "subscription")
        with convert.translated_errors():
            return convert.as_dict(self.client.subscriptions.get(subscription_id))

    def _item(
        self, price_id: str, quantity: int, trial_days: int | None
    ) -> TransactionCreateItem | TransactionCreateItemWithPrice:
        """A transaction item; with a trial, a copy of the catalog price with that trial
        (Paddle keeps trials on prices), which names the catalog price it stands for."""
        convert.check_id(price_id, "price")
        with convert.translated_errors():
            price = convert.as_dict(self.client.prices.get(price_id))
        if not trial_days:
            return TransactionCreateItem(price_id=price_id, quantity=quantity)
        state = objects.price_state(price)
        copy = TransactionNonCatalogPrice(
            description=objects.text(price.get("description")) or price_id,
            unit_price=convert.money(state.amount, state.currency),
            product_id=state.product_id,
            name=state.nickname or None,
            billing_cycle=convert.duration(state.interval, state.interval_count)
            if state.interval
            else None,
            trial_period=convert.trial(trial_days),
            custom_data=convert.CustomData({objects.CATALOG_PRICE_KEY: price_id}),
        )
        return TransactionCreateItemWithPrice(price=copy, quantity=quantity)

    def _recurring(self, price_id: str) -> None:
        convert.check_id(price_id, "price")
        with convert.translated_errors():
            price = convert.as_dict(self.client.prices.get(price_id))
        if not price.get("billing_cycle"):
            raise PermanentProviderError(
                f"Paddle price {price_id} is one-time: a subscription needs a billing cycle.",
                user_message="This price cannot be subscribed to.",
                param="price_id",
            )

    def _own_subscription(self, customer_id: str, local_id: str) -> dict[str, Any] | None:
        for obj in convert.paged(
            lambda: self.client.subscriptions.list(
                ListSubscriptions(pager=convert.pager(), customer_ids=[customer_id])
            ),
            lambda o: o,
        ):
            if objects.custom_data(obj).get(METADATA_ID_KEY) == local_id:
                return obj
        return None

    def create_subscription(
        self, data: SubscriptionData, *, idempotency_key: str
    ) -> ProviderSubscription:
        """Paddle opens subscriptions through transactions: a manually collected one (an
        invoice, payable within 14 days), issued at once. A second call for the same local
        subscription returns the first (Paddle has no idempotency keys)."""
        convert.check_id(data.customer_id, "customer")
        self._recurring(data.price_id)
        existing = self._own_subscription(data.customer_id, data.local_id)
        if existing is not None and existing.get("status") != "canceled":
            return objects.subscription_state(existing)
        addresses = self._addresses(data.customer_id)  # type: ignore[attr-defined]
        operation = CreateTransaction(
            items=[self._item(data.price_id, data.quantity, data.trial_period_days)],
            status=TransactionStatus.Billed,
            customer_id=data.customer_id,
            address_id=addresses[0]["id"] if addresses else None,
            custom_data=convert.custom_data(data.local_id, data.metadata),
            collection_mode=CollectionMode.Manual,
            billing_details=CreateBillingDetails(
                payment_terms=convert.duration("day", 14), enable_checkout=False
            ),
        )
        with convert.translated_errors():
            transaction = convert.as_dict(self.client.transactions.create(operation))
        subscription_id = objects.text(transaction.get("subscription_id"))
        found = (
            self._subscription(subscription_id)
            if subscription_id
            else self._own_subscription(data.customer_id, data.local_id)
        )
        if found is None:
            raise PermanentProviderError(
                f"Paddle billed transaction {transaction.get('id')} but made no subscription."
            )
        return objects.subscription_state(found)

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
        """Items and quantity with ``proration_billing_mode``; ``cancel_at_period_end`` True
        schedules the cancellation, False removes a scheduled one."""
        current = self._subscription(subscription_id)
        obj = current
        if price_id is not None or quantity is not None:
            item = objects.mapping((current.get("items") or [{}])[0])
            raw_price = objects.text(objects.mapping(item.get("price")).get("id"))
            same_price = price_id is None or price_id == objects.item_price_id(item)
            new_price = raw_price if same_price else str(price_id)
            count = quantity if quantity is not None else objects.to_int(item.get("quantity"), 1)
            mode = PRORATION_MODES.get(proration_behavior or "", proration_behavior)
            operation = UpdateSubscription(
                items=[SubscriptionUpdateItem(price_id=new_price, quantity=count)],
                proration_billing_mode=SubscriptionProrationBillingMode(
                    mode or "prorated_next_billing_period"
                ),
            )
            with convert.translated_errors():
                obj = convert.as_dict(self.client.subscriptions.update(subscription_id, operation))
        if cancel_at_period_end is True:
            return self.cancel_subscription(subscription_id, at_period_end=True)
        if cancel_at_period_end is False and objects.mapping(obj.get("scheduled_change")):
            with convert.translated_errors():
                obj = convert.as_dict(
                    self.client.subscriptions.update(
                        subscription_id, UpdateSubscription(scheduled_change=None)
                    )
                )
        return objects.subscription_state(obj)

    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = True
    ) -> ProviderSubscription:
        convert.check_id(subscription_id, "subscription")
        with convert.translated_errors():
            obj = self.client.subscriptions.cancel(
                subscription_id, CancelSubscription(_effective_from(at_period_end))
            )
        return objects.subscription_state(convert.as_dict(obj))

    def pause_subscription(
        self,
        subscription_id: str,
        *,
        behavior: str = "void",
        resumes_at: dt.datetime | None = None,
        at_period_end: bool = True,
    ) -> ProviderSubscription:
        """Paddle's pause: the subscription itself is paused (status ``paused``) and bills
        nothing meanwhile, whatever ``behavior`` asks; ``resumes_at`` is not sent (Paddle's
        own resume date is left to hosts using Paddle's API)."""
        convert.check_id(subscription_id, "subscription")
        with convert.translated_errors():
            obj = self.client.subscriptions.pause(
                subscription_id, PauseSubscription(_effective_from(at_period_end))
            )
        return objects.subscription_state(convert.as_dict(obj))

    def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        convert.check_id(subscription_id, "subscription")
        with convert.translated_errors():
            obj = self.client.subscriptions.resume(subscription_id, ResumeSubscription())
        return objects.subscription_state(convert.as_dict(obj))

    def list_subscriptions(self, customer_id: str | None = None) -> Iterator[ProviderSubscription]:
        operation = ListSubscriptions(
            pager=convert.pager(), customer_ids=[customer_id] if customer_id else None
        )
        return convert.paged(
            lambda: self.client.subscriptions.list(operation), objects.subscription_state
        )

    # --- checkout, portal, invoices -------------------------------------------------------
    def create_checkout_session(
        self, data: CheckoutData, *, idempotency_key: str
    ) -> CheckoutSession:
        """A transaction for Paddle's checkout: ``checkout.url`` is sent as the success URL (the
        page that opens Paddle's checkout, on an approved domain) and the answer's is the
        checkout link; both return URLs also ride in ``custom_data``."""
        if data.mode not in ("subscription", "payment"):
            raise PermanentProviderError(f"Unknown checkout mode {data.mode!r}.", param="mode")
        if data.mode == "subscription":
            self._recurring(data.price_id)
        own = {
            objects.REFERENCE_KEY: data.client_reference_id or "",
            objects.CUSTOMER_EMAIL_KEY: data.customer_email or "",
            objects.SUCCESS_URL_KEY: data.success_url,
            objects.CANCEL_URL_KEY: data.cancel_url,
        }
        operation = CreateTransaction(
            items=[self._item(data.price_id, data.quantity, data.trial_period_days)],
            custom_data=convert.custom_data("", data.metadata, **own),
            collection_mode=CollectionMode.Automatic,
            # Paddle opens its checkout on this page (an approved domain) and returns there.
            checkout=Checkout(url=data.success_url),
        )
        if data.customer_id:
            convert.check_id(data.customer_id, "customer")
            operation.customer_id = data.customer_id
            # The address Paddle taxes by: the customer's, when it has one (the checkout
            # asks for it otherwise).
            addresses = self._addresses(data.customer_id)  # type: ignore[attr-defined]
            if addresses:
                operation.address_id = addresses[0]["id"]
                # And its business (the VAT number): Paddle reverse-charges an EU business.
                businesses = self._businesses(data.customer_id)  # type: ignore[attr-defined]
                if businesses:
                    operation.business_id = businesses[0]["id"]
        with convert.translated_errors():
            obj = self.client.transactions.create(operation)
        return objects.checkout_state(convert.as_dict(obj))

    def create_portal_session(self, customer_id: str, return_url: str) -> PortalSession:
        """Paddle's portal link (``urls.general.overview``); Paddle's portal has no return
        URL: its page links back to the seller's website."""
        convert.check_id(customer_id, "customer")
        with convert.translated_errors():
            obj = self.client.customer_portal_sessions.create(
                customer_id, CreateCustomerPortalSession()
            )
        return PortalSession(
            id=obj.id,
            url=obj.urls.general.overview,
            customer_id=customer_id,
            return_url=return_url,
        )

    def list_invoices(self, customer_id: str) -> Iterator[ProviderInvoice]:
        convert.check_id(customer_id, "customer")
        operation = ListTransactions(
            pager=convert.pager(), customer_ids=[customer_id], statuses=INVOICE_STATUSES
        )
        return convert.paged(
            lambda: self.client.transactions.list(operation), objects.invoice_state
        )


def _effective_from(at_period_end: bool) -> SubscriptionEffectiveFrom:
    if at_period_end:
        return SubscriptionEffectiveFrom.NextBillingPeriod
    return SubscriptionEffectiveFrom.Immediately
