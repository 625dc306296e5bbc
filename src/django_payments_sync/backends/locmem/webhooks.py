"""The in-memory backend: signed webhooks, webhook endpoints and re-fetching objects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from django_payments_sync.backends.locmem.state import (
    SIGNATURE_HEADER,
    LocmemState,
    _jsonable,
    sign_locmem_payload,
)
from django_payments_sync.backends.types import (
    NEUTRAL_OBJECT_TYPES,
    ProviderEvent,
    WebhookEndpoint,
    event_kind,
    from_dict,
    ordering_key_of,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    WebhookVerificationError,
)


class LocmemWebhooks(LocmemState):
    """Signed webhooks in the library's own vocabulary, endpoints, and re-fetching."""

    # --- webhooks -------------------------------------------------------------------------
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts:
            raise WebhookVerificationError("Missing or malformed locmem signature header.")
        expected = sign_locmem_payload(body, self.options["webhook_secret"], int(parts["t"]))
        if not hmac.compare_digest(expected.split("v1=", 1)[1], parts["v1"]):
            raise WebhookVerificationError("The locmem webhook signature does not match.")
        tolerance = self.options["tolerance"]
        if tolerance is None:
            from django_payments_sync.conf import payments_settings

            tolerance = payments_settings.WEBHOOK_TOLERANCE
        if abs(time.time() - int(parts["t"])) > tolerance:
            raise WebhookVerificationError("The locmem webhook timestamp is too old.")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookVerificationError("The webhook body is not JSON.") from exc
        return self.parse_event(payload)

    def parse_event(self, payload: Mapping[str, Any]) -> ProviderEvent:
        """Locmem events speak the library's own vocabulary: their types are
        :class:`EventKind` values and their objects carry the neutral types' fields."""
        try:
            obj = dict(payload["data"]["object"])
            object_type = str(obj["object"])
            object_id = str(obj["id"])
            event_type = str(payload["type"])
            customer_id = payload.get("customer")
            previous = dict(payload["data"].get("previous_attributes") or {})
            neutral = NEUTRAL_OBJECT_TYPES.get(object_type)
            key = ordering_key_of(
                customer_id, object_type, object_id, catalog=object_type in ("product", "price")
            )
            return ProviderEvent(
                provider=self.provider_name,
                id=str(payload["id"]),
                type=event_type,
                created=dt.datetime.fromtimestamp(int(payload["created"]), dt.UTC),
                livemode=bool(payload.get("livemode", False)),
                object_type=object_type,
                object_id=object_id,
                object=obj,
                previous_attributes=previous,
                customer_id=customer_id,
                raw=dict(payload),
                kind=event_kind(event_type),
                data=from_dict(neutral, obj) if neutral is not None else None,
                ordering_key=key,
                changed=frozenset(previous) if event_type.endswith(".updated") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookVerificationError(f"Not a locmem event: {exc}") from exc

    def create_webhook_endpoint(self, url: str, events: list[str] | None = None) -> WebhookEndpoint:
        self._record("create_webhook_endpoint", (url,), {"events": events})
        endpoint = WebhookEndpoint(
            id=self._new_id("we"),
            url=url,
            secret=self.options["webhook_secret"],
            enabled_events=tuple(events or ["*"]),
        )
        self.webhook_endpoints[endpoint.id] = dataclasses.replace(endpoint, secret=None)
        return endpoint

    def list_webhook_endpoints(self) -> Iterator[WebhookEndpoint]:
        self._record("list_webhook_endpoints", (), {})
        return iter(list(self.webhook_endpoints.values()))

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        self._record("delete_webhook_endpoint", (endpoint_id,), {})
        self._get(self.webhook_endpoints, endpoint_id, "webhook endpoint")
        del self.webhook_endpoints[endpoint_id]

    # --- re-fetch mode --------------------------------------------------------------------
    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        self._record("retrieve", (object_type, object_id), {})
        tables: dict[str, dict[str, Any]] = {
            "customer": self.customers,
            "tax_id": self.tax_ids,
            "product": self.products,
            "price": self.prices,
            "subscription": self.subscriptions,
            "checkout.session": self.checkout_sessions,
            "invoice": self.invoices,
        }
        if object_type not in tables:
            raise ObjectNotFound(f"Unknown object type {object_type!r}.")
        return {
            **_jsonable(self._get(tables[object_type], object_id, object_type)),
            "object": object_type,
        }
