"""The Stripe backend's webhooks: verifying and parsing events, webhook endpoints, re-fetching."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import stripe
from stripe.params import WebhookEndpointCreateParams

from django_payments_sync.backends.stripe import params as convert
from django_payments_sync.backends.types import (
    EventKind,
    ProviderEvent,
    WebhookEndpoint,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    WebhookVerificationError,
)

#: Stripe lists at most 100 objects a page: the fewest calls for a reconciliation.
PAGE_SIZE = 100


def key_mode(api_key: str) -> str:
    """``"live"`` for a live secret or restricted key (``sk_live_``, ``rk_live_``), else ``"test"``.

    Stripe's account object has no mode: one account has test and live data apart, so the
    key's prefix tells which of the two the credentials reach.
    """
    return "live" if api_key.startswith(("sk_live_", "rk_live_")) else "test"


if TYPE_CHECKING:
    import stripe


class StripeWebhooks:
    """Mixed into :class:`~django_payments_sync.backends.stripe.StripeBackend`."""

    client: stripe.StripeClient
    options: dict[str, Any]

    # --- webhooks -------------------------------------------------------------------------
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        from django_payments_sync.backends.stripe.events import verify_stripe_webhook
        from django_payments_sync.conf import payments_settings

        event = verify_stripe_webhook(
            body,
            headers,
            secret=self.options["webhook_secret"] or "",
            tolerance=int(payments_settings.WEBHOOK_TOLERANCE),
        )
        # A correctly signed event can still be for another mode (a test endpoint's secret
        # reused in live mode) or for a connected account: neither is this site's data.
        live = str(self.options["api_key"] or "").startswith(("sk_live_", "rk_live_"))
        if event.livemode != live:
            raise WebhookVerificationError(
                f"A {'live' if event.livemode else 'test'}-mode event reached an endpoint whose "
                f"API key is in {'live' if live else 'test'} mode."
            )
        if event.raw.get("account"):
            raise WebhookVerificationError(
                "The event is for a connected account; this endpoint serves its own account only."
            )
        return event

    def parse_event(self, payload: Mapping[str, Any]) -> ProviderEvent:
        from django_payments_sync.backends.stripe.events import parse_stripe_event

        return parse_stripe_event(payload)

    def event_kind(self, event_type: str) -> EventKind:
        from django_payments_sync.backends.stripe.events import stripe_event_kind

        return stripe_event_kind(event_type)

    def _endpoint(self, obj: Any) -> WebhookEndpoint:
        data = convert.as_dict(obj)
        return WebhookEndpoint(
            id=data["id"],
            url=data.get("url") or "",
            secret=data.get("secret"),
            enabled_events=tuple(data.get("enabled_events") or ()),
            status=data.get("status") or "enabled",
        )

    def create_webhook_endpoint(self, url: str, events: list[str] | None = None) -> WebhookEndpoint:
        params: WebhookEndpointCreateParams = {
            "url": url,
            "enabled_events": cast(Any, events or ["*"]),
            "description": "django-payments-sync",
        }
        with convert.translated_errors():
            obj = self.client.v1.webhook_endpoints.create(params)
        return self._endpoint(obj)

    def list_webhook_endpoints(self) -> Iterator[WebhookEndpoint]:
        return convert.paged(
            lambda: self.client.v1.webhook_endpoints.list({"limit": PAGE_SIZE}), self._endpoint
        )

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        with convert.translated_errors():
            self.client.v1.webhook_endpoints.delete(endpoint_id)

    # --- re-fetch mode --------------------------------------------------------------------
    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        v1 = self.client.v1
        retrievers: dict[str, Any] = {
            "customer": v1.customers.retrieve,
            "product": v1.products.retrieve,
            "price": v1.prices.retrieve,
            "subscription": v1.subscriptions.retrieve,
            "invoice": v1.invoices.retrieve,
            "checkout.session": v1.checkout.sessions.retrieve,
            "refund": v1.refunds.retrieve,
            "payment_intent": v1.payment_intents.retrieve,
            "charge": v1.charges.retrieve,
            "webhook_endpoint": v1.webhook_endpoints.retrieve,
        }
        if object_type not in retrievers:
            raise ObjectNotFound(f"Cannot retrieve Stripe objects of type {object_type!r}.")
        with convert.translated_errors():
            return convert.as_dict(retrievers[object_type](object_id))
