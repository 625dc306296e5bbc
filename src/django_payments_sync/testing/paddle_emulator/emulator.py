"""`PaddleEmulator`: start, stop and steer the Paddle Billing emulator from Python."""

from __future__ import annotations

import copy
import functools
import time
from typing import TYPE_CHECKING, Any

from ..emulator_kit import EmulatorBase
from .notifications import EVENT_TYPES, PaddleDispatcher, event_of, notification_body, sign
from .server import PaddleHandler
from .store import Store

if TYPE_CHECKING:
    import paddle_billing

DEFAULT_API_KEY = "pdl_sdbx_apikey_emulator"


class EmulatorEnvironment:
    """What the SDK reads from `Options.environment`: a base URL (here, the emulator's)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.value = "emulator"

    def __str__(self) -> str:
        return self.base_url


class PaddleEmulator(EmulatorBase):
    """An in-process, stateful Paddle Billing stand-in listening on `url`.

    >>> with PaddleEmulator() as emulator:
    ...     client = emulator.client()
    ...     customer = client.customers.create(CreateCustomer(email="a@example.com"))

    `api_key=None` accepts any Bearer key; by default only `DEFAULT_API_KEY` (what `client()`
    sends) is accepted, so a misconfigured key fails as it would at Paddle (403).
    """

    handler_class = PaddleHandler
    name = "paddle"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        public_url: str | None = None,
        webhook_retry_backoff: float = 0.5,
        webhook_max_attempts: int = 5,
        webhook_timeout: float = 5.0,
        seed: int | None = None,
        dunning_exhausted_action: str = "subscription_canceled",
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, public_url=public_url, verbose=verbose)
        self.api_key = api_key
        self.store = Store(seed)
        self.dunning_exhausted_action = dunning_exhausted_action
        self.dispatcher = PaddleDispatcher(
            self.store,
            retry_backoff=webhook_retry_backoff,
            max_attempts=webhook_max_attempts,
            timeout=webhook_timeout,
            seed=seed,
        )
        self.store.event_listeners.append(self.dispatcher.enqueue)

    def started(self) -> None:
        self.store.base_url = self.url

    @property
    def dunning_exhausted_action(self) -> str:
        """What a renewal unpaid after dunning leads to: `subscription_canceled` or
        `subscription_paused` (Paddle's dunning setting; kept across resets)."""
        return self.store.dunning_exhausted_action

    @dunning_exhausted_action.setter
    def dunning_exhausted_action(self, value: str) -> None:
        if value not in ("subscription_canceled", "subscription_paused"):
            raise ValueError("dunning_exhausted_action: subscription_canceled or _paused")
        self.store.dunning_exhausted_action = value

    def environment(self) -> EmulatorEnvironment:
        """For `paddle_billing.Options(environment=...)`: the SDK's requests come here."""
        return EmulatorEnvironment(self.url)

    def client(self, api_key: str | None = None, **kwargs: Any) -> paddle_billing.Client:
        """A `paddle_billing.Client` pointed at this emulator (extra kwargs go to the client)."""
        from paddle_billing import Client, Options

        key = api_key or self.api_key or DEFAULT_API_KEY
        return Client(key, options=Options(self.environment()), **kwargs)

    # state and clock

    def advance_clock(self, seconds: int) -> str:
        """Move time on: renewals, failed renewals and retries, scheduled pauses, resumes and
        cancellations due on the way happen at their own moments, in order."""
        from .schedule import next_due, perform

        def due() -> tuple[float, Any] | None:
            found = next_due(self.store)
            if found is None:
                return None
            when, what, sub = found
            return when, functools.partial(perform, self.store, what, sub)

        with self.store.lock:
            self.store.clock.advance(seconds, due)
            return self.store.now()

    # checkout and dashboard-side changes

    def pay_transaction(self, transaction_id: str, *, declined: bool = False) -> dict[str, Any]:
        """What the hosted checkout's Pay button does (declined: raises the 402 PaddleError)."""
        from .billing import pay_checkout

        with self.store.lock:
            txn = self.store.get("transaction", transaction_id)
            return copy.deepcopy(pay_checkout(self.store, txn, declined=declined))

    def set_payment_card(self, customer_id: str, *, declined: bool) -> None:
        """Put a working or a declining test card on file: the next renewals succeed or fail."""
        from .billing import set_card

        with self.store.lock:
            self.store.get("customer", customer_id)
            set_card(self.store, customer_id, declined=declined)

    def update_entity(self, entity_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change an entity "from the dashboard": the change and its `<kind>.updated` event,
        without going through the API (e.g. a customer's email edited at Paddle)."""
        from .resources.customers import apply_update

        with self.store.lock:
            kind = self.store.kinds.get(entity_id)
            if kind not in ("customer", "address", "business", "product", "price"):
                raise KeyError(f"no customer, address, business, product or price {entity_id}")
            entity = self.store.objects[entity_id]
            unknown = set(changes) - set(entity)
            if unknown:
                raise ValueError(f"unknown fields for a {kind}: {', '.join(sorted(unknown))}")
            _apply(self.store, kind, entity, changes, apply_update)
            return copy.deepcopy(entity)

    def cancel_subscription(
        self, subscription_id: str, *, effective_from: str = "immediately"
    ) -> dict[str, Any]:
        """Cancel "from the dashboard" (`immediately` or `next_billing_period`)."""
        from .resources.subscriptions import cancel

        if effective_from not in ("immediately", "next_billing_period"):
            raise ValueError("effective_from must be immediately or next_billing_period")
        with self.store.lock:
            sub = self.store.get("subscription", subscription_id)
            if sub["status"] == "canceled":
                raise ValueError(f"subscription {subscription_id} is already canceled")
            return copy.deepcopy(cancel(self.store, sub, effective_from))

    # notifications

    def add_notification_destination(
        self, url: str, events: list[str] | None = None, *, description: str = "emulator"
    ) -> dict[str, Any]:
        """Register a URL destination (every event type by default); the result has its
        `endpoint_secret_key`, the secret `Paddle-Signature` is computed with."""
        from .notifications import subscribed_event
        from .resources.events import new_setting

        names = events or list(EVENT_TYPES)
        unknown = [n for n in names if n not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown)}")
        values = {
            "description": description,
            "type": "url",
            "destination": url,
            "subscribed_events": [subscribed_event(n) for n in names],
        }
        with self.store.lock:
            return copy.deepcopy(new_setting(self.store, values))

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Events emitted so far, oldest first, as the events API shows them."""
        with self.store.lock:
            rows = self.store.all("event")
            return [
                copy.deepcopy(event_of(e)) for e in rows if event_type in (None, e["event_type"])
            ]

    def signed_payload(self, event_id: str, secret: str) -> tuple[bytes, str]:
        """A notification body for an event and its `Paddle-Signature`, signed now with `secret`.

        For posting notifications yourself (e.g. through Django's test client).
        """
        with self.store.lock:
            record = self.store.get("event", event_id)
            body = notification_body(event_of(record), self.store.new_id("ntf"))
        return body, sign(body, secret, int(time.time()))

    def control(self, method: str, action: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        if (method, action) == ("POST", "notification_settings"):
            events = body.get("events") or None
            if isinstance(events, str):
                events = events.split(",")
            return 200, self.add_notification_destination(str(body["url"]), events)
        if (method, action) == ("POST", "transactions/pay"):
            return 200, self.pay_transaction(
                str(body["transaction_id"]), declined=bool(body.get("declined"))
            )
        if (method, action) == ("POST", "customers/card"):
            self.set_payment_card(str(body["customer_id"]), declined=bool(body.get("declined")))
            return 200, {"customer_id": body["customer_id"], "declined": bool(body.get("declined"))}
        if (method, action) == ("POST", "entities/update"):
            return 200, self.update_entity(str(body["id"]), dict(body["changes"]))
        if (method, action) == ("POST", "subscriptions/cancel"):
            return 200, self.cancel_subscription(
                str(body["subscription_id"]),
                effective_from=str(body.get("effective_from", "immediately")),
            )
        return None


def _apply(
    store: Store, kind: str, entity: dict[str, Any], changes: dict[str, Any], apply: Any
) -> None:
    from .resources import Call

    call = Call(store, "PATCH", "", (), {}, {})
    apply(call, kind, entity, changes)
