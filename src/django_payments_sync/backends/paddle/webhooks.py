"""The Paddle backend's webhooks and reads: ``Paddle-Signature``, notifications, the events
list, notification settings, ``retrieve`` and ``refetch``.

A mixin of :class:`~.backend.PaddleBackend` (its ``client`` and ``options``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from paddle_billing import Client
from paddle_billing.Entities.Events import EventTypeName
from paddle_billing.Entities.NotificationSettings import NotificationSettingType
from paddle_billing.Resources.Events.Operations import ListEvents
from paddle_billing.Resources.NotificationSettings.Operations import (
    CreateNotificationSetting,
)

from django_payments_sync.backends.paddle import events, objects
from django_payments_sync.backends.paddle import params as convert
from django_payments_sync.backends.types import EventKind, ProviderEvent, WebhookEndpoint
from django_payments_sync.exceptions import ObjectNotFound


class PaddleWebhooks:
    client: Client
    options: dict[str, Any]

    @property
    def livemode(self) -> bool:
        raise NotImplementedError

    # --- webhooks -------------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        value = self.options["webhook_secret"]
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value or ()]

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        from django_payments_sync.conf import payments_settings

        return events.verify_paddle_webhook(
            body,
            headers,
            secrets=self._secrets(),
            tolerance=int(payments_settings.WEBHOOK_TOLERANCE),
            livemode=self.livemode,
        )

    def parse_event(self, payload: Mapping[str, Any]) -> ProviderEvent:
        return events.parse_paddle_event(payload, livemode=self.livemode)

    def event_kind(self, event_type: str) -> EventKind:
        return events.paddle_event_kind(event_type)

    def event_follows(self, event: ProviderEvent, earlier: ProviderEvent) -> bool | None:
        """Paddle sends no previous values; its entities' ``updated_at`` tells instead."""
        mine = objects.timestamp(event.object.get("updated_at"))
        theirs = objects.timestamp(earlier.object.get("updated_at"))
        if mine is None or theirs is None or mine == theirs:
            return None
        return mine > theirs

    def list_events(self, *, since: dt.datetime | None = None) -> Iterator[ProviderEvent]:
        """Paddle's events (``GET /events``, 90 days), oldest first, as the webhooks carry
        them: what a replay of missed deliveries stores and applies."""
        operation = ListEvents(pager=convert.pager())
        url: str | None = "/events"
        query: Any = operation
        while url:
            with convert.translated_errors():
                response = self.client.get_raw(url, query)
            body = json.loads(response.text)
            for payload in body.get("data") or ():
                event = self.parse_event(payload)
                if since is None or event.created >= since:
                    yield event
            pagination = objects.mapping(objects.mapping(body.get("meta")).get("pagination"))
            url = objects.text(pagination.get("next")) if pagination.get("has_more") else None
            query = None

    def create_webhook_endpoint(self, url: str, events: list[str] | None = None) -> WebhookEndpoint:
        from django_payments_sync.backends.paddle.events import PADDLE_EVENT_KINDS

        wanted = [e for e in events or () if e != "*"]
        if not wanted:
            # Every type the library reads that this account offers (GET /event-types).
            ours = {*PADDLE_EVENT_KINDS, "address.created", "address.updated"}
            with convert.translated_errors():
                offered = {str(t.name) for t in self.client.event_types.list()}
            wanted = sorted(ours & offered)
        names = wanted
        operation = CreateNotificationSetting(
            description="django-payments-sync",
            destination=url,
            subscribed_events=[EventTypeName(n) for n in names],
            type=NotificationSettingType.Url,
            include_sensitive_fields=False,
        )
        with convert.translated_errors():
            obj = self.client.notification_settings.create(operation)
        return _endpoint(convert.as_dict(obj))

    def list_webhook_endpoints(self) -> Iterator[WebhookEndpoint]:
        return convert.paged(lambda: self.client.notification_settings.list(), _endpoint)

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        convert.check_id(endpoint_id, "notification setting")
        with convert.translated_errors():
            self.client.notification_settings.delete(endpoint_id)

    # --- reads ----------------------------------------------------------------------------
    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        readers: dict[str, Any] = {
            "customer": self.client.customers.get,
            "product": self.client.products.get,
            "price": self.client.prices.get,
            "subscription": self.client.subscriptions.get,
            "transaction": self.client.transactions.get,
            "checkout.session": self.client.transactions.get,
        }
        if object_type not in readers:
            raise ObjectNotFound(f"Cannot retrieve Paddle objects of type {object_type!r}.")
        convert.check_id(object_id, object_type)
        with convert.translated_errors():
            return convert.as_dict(readers[object_type](object_id))

    def refetch(self, event: ProviderEvent) -> ProviderEvent:
        """The notification with its entity as Paddle holds it now (addresses and businesses
        are read under their customer)."""
        customer_id = event.customer_id or ""
        with convert.translated_errors():
            if event.object_type == "address":
                fresh = convert.as_dict(self.client.addresses.get(customer_id, event.object_id))
            elif event.object_type == "tax_id":
                fresh = convert.as_dict(self.client.businesses.get(customer_id, event.object_id))
            else:
                fresh = self.retrieve(event.object_type, event.object_id)
        return self.parse_event({**event.raw, "data": fresh})


def _endpoint(data: Mapping[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=objects.text(data.get("id")),
        url=objects.text(data.get("destination")),
        secret=objects.text(data.get("endpoint_secret_key")) or None,
        enabled_events=tuple(
            objects.text(objects.mapping(e).get("name")) if isinstance(e, Mapping) else str(e)
            for e in data.get("subscribed_events") or ()
        ),
        status="enabled" if data.get("active", True) else "disabled",
    )
