"""The subscription lifecycle's services: what a change would cost, seats, pause and resume."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from django_payments_sync.backends.types import InvoicePreview
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import PolicyViolation, ProviderError
from django_payments_sync.interactor import provider
from django_payments_sync.interactor.subscriptions import SubscriptionService, show_provider_state
from django_payments_sync.models import Invoice, PauseBehavior, Subscription

#: What ``proration_behavior`` accepts, per call or as ``PRORATION_BEHAVIOR``.
PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


class LifecycleService:
    """Previews of changes, seats, paused collection: each one provider call, the row itself
    written by the provider's events (as every subscription change)."""

    def __init__(self) -> None:
        self.subscriptions = SubscriptionService()

    def preview_change(
        self,
        subscription: Subscription,
        *,
        pricing: Any = None,
        quantity: int | None = None,
        proration_behavior: str | None = None,
    ) -> InvoicePreview:
        """What the next invoice would be after moving to ``pricing`` and/or ``quantity``
        (prorations, total, tax, date), changing nothing; refused as the change would be."""
        behavior = proration_behavior or payments_settings.PRORATION_BEHAVIOR
        if behavior not in PRORATION_BEHAVIORS:
            raise PolicyViolation(
                f"proration_behavior must be one of {', '.join(PRORATION_BEHAVIORS)}.",
                code="invalid_proration_behavior",
            )
        new_pricing, new_quantity = self.subscriptions.check_change(subscription, pricing, quantity)
        price_changed = new_pricing.pk != subscription.pricing_id
        return provider.backend().preview_subscription_change(
            self.subscriptions.external_id_of(subscription),
            price_id=provider.ensure_price_id(new_pricing) if price_changed else None,
            quantity=None if new_pricing.is_metered else new_quantity,
            proration_behavior=behavior,
        )

    def change_quantity(
        self, subscription: Subscription, by: int, *, proration_behavior: str | None = None
    ) -> Subscription:
        """Add ``by`` seats (remove them with a negative ``by``), within the price's
        ``min_quantity``..``max_quantity``."""
        if by == 0:
            raise PolicyViolation("Change the quantity by at least one.", code="invalid_quantity")
        return self.subscriptions.update_subscription(
            subscription,
            quantity=subscription.quantity + by,
            proration_behavior=proration_behavior,
        )

    def pause(
        self,
        subscription: Subscription,
        *,
        behavior: str = PauseBehavior.VOID,
        resumes_at: dt.datetime | None = None,
    ) -> Subscription:
        """Pause payment collection: the provider's invoices are voided (the default), marked
        uncollectible or kept as drafts until :meth:`resume` or ``resumes_at``."""
        if behavior not in PauseBehavior.values:
            raise PolicyViolation(
                f"behavior must be one of {', '.join(PauseBehavior.values)}.",
                code="invalid_pause_behavior",
            )
        if subscription.status not in ("active", "trialing", "past_due"):
            raise PolicyViolation(
                f"A {subscription.status} subscription cannot be paused.",
                code="subscription_not_live",
            )
        if resumes_at is not None and resumes_at <= timezone.now():
            raise PolicyViolation("resumes_at must be in the future.", code="invalid_resumes_at")
        state = provider.backend().pause_subscription(
            self.subscriptions.external_id_of(subscription),
            behavior=behavior,
            resumes_at=resumes_at,
        )
        return show_provider_state(subscription, state)

    def resume(self, subscription: Subscription) -> Subscription:
        """Collect payments again."""
        if not subscription.is_paused:
            raise PolicyViolation(
                "This subscription is not paused.", code="subscription_not_paused"
            )
        state = provider.backend().resume_subscription(
            self.subscriptions.external_id_of(subscription)
        )
        return show_provider_state(subscription, state)


def show_open_invoices(subscription: Subscription, customer_id: str, subscription_id: str) -> None:
    """Set the provider's open invoices of a subscription on it in memory (``open_invoices``,
    what the API's ``hosted_invoice_url`` reads) before their events have been applied: the
    answer to a create whose first payment needs the customer. The rows themselves are
    written by the invoice events only."""
    from django_payments_sync.webhooks.handlers.invoices import invoice_values

    try:
        found = [
            i
            for i in provider.backend().list_invoices(customer_id)
            if i.subscription_id == subscription_id and i.status == "open"
        ]
    except ProviderError:  # the answer without the link beats no answer; events bring it
        return
    subscription.open_invoices = [  # type: ignore[attr-defined]
        Invoice(subscription=subscription, external_id=i.id, **invoice_values(i)) for i in found
    ]
