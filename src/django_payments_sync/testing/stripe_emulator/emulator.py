"""`StripeEmulator`: start, stop and steer the emulator from Python."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..emulator_kit import EmulatorBase
from .server import StripeHandler
from .store import Store
from .webhooks import StripeDispatcher

if TYPE_CHECKING:
    import stripe
    from stripe._base_address import BaseAddresses

DEFAULT_API_KEY = "sk_test_emulator"


class StripeEmulator(EmulatorBase):
    """An in-process, stateful Stripe stand-in listening on `url` (127.0.0.1, ephemeral port).

    >>> with StripeEmulator() as emulator:
    ...     client = emulator.client()
    ...     customer = client.v1.customers.create({"email": "a@example.com"})

    Each emulator is one Stripe account: `GET /v1/account` answers `account_id` (default: drawn
    from `seed`, random without one), the same after `reset()`; a second emulator is another
    account.
    """

    handler_class = StripeHandler
    dispatcher_class = StripeDispatcher
    name = "stripe"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = DEFAULT_API_KEY,
        public_url: str | None = None,
        webhook_retry_backoff: float = 0.5,
        webhook_max_attempts: int = 5,
        webhook_timeout: float = 5.0,
        seed: int | None = None,
        account_id: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.store: Store
        super().__init__(
            host,
            port,
            Store(seed, account_id),
            public_url=public_url,
            webhook_retry_backoff=webhook_retry_backoff,
            webhook_max_attempts=webhook_max_attempts,
            webhook_timeout=webhook_timeout,
            seed=seed,
            verbose=verbose,
        )
        self.api_key = api_key

    @property
    def account_id(self) -> str:
        """The id of the account this emulator plays (`GET /v1/account`), e.g. `acct_...`."""
        return self.store.account_id

    def base_addresses(self) -> BaseAddresses:
        """Every base address of the SDK pointed here (connect and files too)."""
        url = self.url
        return {"api": url, "files": url, "connect": url, "meter_events": url}

    def client(self, api_key: str | None = None, **kwargs: Any) -> stripe.StripeClient:
        """A `stripe.StripeClient` pointed at this emulator (extra kwargs go to the client)."""
        import stripe

        return stripe.StripeClient(
            api_key or self.api_key, base_addresses=self.base_addresses(), **kwargs
        )

    # state and clock

    def advance_clock(self, seconds: int) -> int:
        """Move time on, running renewals, trial ends and cancellations due on the way."""
        from .billing import advance

        with self.store.lock:
            return advance(self.store, int(seconds))

    def configure_dunning(
        self, *, retry_days: list[int] | None = None, final: str | None = None
    ) -> None:
        """How failed renewals are retried: the days between attempts (default 3, 7, 11: four
        attempts over three weeks) and what the subscription becomes after the last failed
        one, ``"cancel"`` (default) or ``"unpaid"``."""
        from .dunning import dunning_settings

        if final not in (None, "cancel", "unpaid"):
            raise ValueError("final must be 'cancel' or 'unpaid'")
        with self.store.lock:
            settings = dunning_settings(self.store)
            if retry_days is not None:
                settings["retry_days"] = [int(d) for d in retry_days]
            if final is not None:
                settings["final"] = final

    def pay_checkout_session(
        self, session_id: str, *, declined: bool = False, payment_method: str | None = None
    ) -> str | None:
        """Do what the hosted page's Pay button does; return the success URL to redirect to.

        `declined=True` pays with a declining card: raises the 402 `StripeError`, changes nothing;
        `payment_method` pays with another of Stripe's test payment methods (`pm_card_refundFail`).
        Tests that want the HTTP level can `POST {session.url}/pay` (or `/decline`, `/cancel`).
        """
        from .events import set_request
        from .resources.sessions import CARD_DECLINED, CARD_OK, pay_session

        with self.store.lock:
            set_request(None, None)
            session = self.store.get("checkout.session", session_id)
            card = payment_method or (CARD_DECLINED if declined else CARD_OK)
            return pay_session(self.store, session, card)

    # webhooks

    def add_webhook_endpoint(
        self, url: str, enabled_events: list[str] | None = None
    ) -> dict[str, Any]:
        """Register an endpoint (all events by default); the result has its `secret`."""
        from .resources.webhook_endpoints import add_endpoint

        with self.store.lock:
            return copy.deepcopy(add_endpoint(self.store, url, enabled_events or ["*"]))

    def signed_payload(self, event_id: str, secret: str) -> tuple[bytes, str]:
        """An event's JSON body and a `Stripe-Signature` header for it, signed now with `secret`.

        For posting events yourself, e.g. through Django's test client, instead of delivery.
        """
        import json
        import time

        from .webhooks import sign

        with self.store.lock:
            event = self.store.get("event", event_id)
            body = json.dumps(event, indent=2).encode()
        return body, sign(body, secret, int(time.time()))

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Events emitted so far, oldest first."""
        with self.store.lock:
            rows = list(reversed(self.store.all("event")))
            return [copy.deepcopy(e) for e in rows if event_type in (None, e["type"])]

    def control(self, method: str, action: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        if (method, action) == ("POST", "webhook_endpoints"):
            events = body.get("enabled_events") or ["*"]
            if isinstance(events, str):
                events = events.split(",")
            return 200, self.add_webhook_endpoint(str(body["url"]), list(events))
        return None
