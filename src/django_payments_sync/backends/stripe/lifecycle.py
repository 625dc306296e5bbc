"""The Stripe backend's part of the subscription lifecycle: invoice previews of a change
(``POST /v1/invoices/create_preview``) and paused collection (``pause_collection``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from django_payments_sync.backends.stripe import params as convert
from django_payments_sync.backends.stripe.objects import (
    stripe_preview_state,
    stripe_subscription_state,
)
from django_payments_sync.backends.types import InvoicePreview, ProviderSubscription

if TYPE_CHECKING:
    import stripe


class StripeLifecycle:
    """Mixed into :class:`~django_payments_sync.backends.stripe.StripeBackend`."""

    client: stripe.StripeClient

    def preview_subscription_change(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        quantity: int | None = None,
        proration_behavior: str = "create_prorations",
    ) -> InvoicePreview:
        with convert.translated_errors():
            current = stripe_subscription_state(
                convert.as_dict(self.client.v1.subscriptions.retrieve(subscription_id))
            )
            item: dict[str, Any] = {"id": current.item_id}
            if price_id is not None:
                item["price"] = price_id
            if quantity is not None:
                item["quantity"] = quantity
            obj = self.client.v1.invoices.create_preview(
                {
                    "customer": current.customer_id,
                    "subscription": subscription_id,
                    "subscription_details": {
                        "items": [cast(Any, item)],
                        "proration_behavior": cast(Any, proration_behavior),
                    },
                }
            )
        return stripe_preview_state(convert.as_dict(obj))

    def pause_subscription(
        self, subscription_id: str, *, behavior: str, resumes_at: dt.datetime | None = None
    ) -> ProviderSubscription:
        pause: dict[str, Any] = {"behavior": behavior}
        if resumes_at is not None:
            pause["resumes_at"] = int(resumes_at.timestamp())
        with convert.translated_errors():
            obj = self.client.v1.subscriptions.update(
                subscription_id, {"pause_collection": cast(Any, pause)}
            )
        return stripe_subscription_state(convert.as_dict(obj))

    def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        with convert.translated_errors():
            obj = self.client.v1.subscriptions.update(subscription_id, {"pause_collection": ""})
        return stripe_subscription_state(convert.as_dict(obj))
