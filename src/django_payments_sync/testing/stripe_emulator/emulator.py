"""`StripeEmulator`: start, stop and steer the emulator from Python."""

from __future__ import annotations

import copy
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .faults import Faults
from .store import Store
from .webhooks import Dispatcher

if TYPE_CHECKING:
    import stripe
    from stripe._base_address import BaseAddresses

    from .server import EmulatorHTTPServer

DEFAULT_API_KEY = "sk_test_emulator"


class StripeEmulator:
    """An in-process, stateful Stripe stand-in listening on `url` (127.0.0.1, ephemeral port).

    >>> with StripeEmulator() as emulator:
    ...     client = emulator.client()
    ...     customer = client.v1.customers.create({"email": "a@example.com"})

    Each emulator is one Stripe account: `GET /v1/account` answers `account_id` (default: drawn
    from `seed`, random without one), the same after `reset()`; a second emulator is another
    account.
    """

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
        self.host = host
        self.port = port
        self.api_key = api_key
        self.verbose = verbose
        self._public_url = public_url
        self.store = Store(seed, account_id)
        self.faults = Faults()
        self.dispatcher = Dispatcher(
            self.store,
            retry_backoff=webhook_retry_backoff,
            max_attempts=webhook_max_attempts,
            timeout=webhook_timeout,
            seed=seed,
        )
        self.store.event_listeners.append(self.dispatcher.enqueue)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> StripeEmulator:
        """Bind, serve in a daemon thread, and return self."""
        from .server import EmulatorHTTPServer

        if self._server is not None:
            return self
        self._server = EmulatorHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self.store.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="stripe-emulator-http",
            daemon=True,
        )
        self._thread.start()
        self.dispatcher.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        self.dispatcher.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def account_id(self) -> str:
        """The id of the account this emulator plays (`GET /v1/account`), e.g. `acct_...`."""
        return self.store.account_id

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321` (what `base_addresses` wants)."""
        if self._public_url:
            return self._public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

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

    def reset(self) -> None:
        """Forget every object, event, delivery, fault and clock offset."""
        with self.store.lock:
            self.store.reset()
            self.dispatcher.reset()
        self.faults.clear()

    def state(self) -> dict[str, Any]:
        """A JSON-able dump of every stored object, by kind, plus the clock."""
        return self.store.snapshot()

    def now(self) -> int:
        return self.store.now()

    def advance_clock(self, seconds: int) -> int:
        """Move time on, running renewals, trial ends and cancellations due on the way."""
        from .billing import advance

        with self.store.lock:
            return advance(self.store, int(seconds))

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

    def set_delivery_mode(self, mode: str) -> None:
        """`"in-order"` (default), `"shuffled"` or `"duplicates"` (every delivery sent twice)."""
        self.dispatcher.set_mode(mode)

    def pause_deliveries(self) -> None:
        self.dispatcher.pause()

    def resume_deliveries(self) -> None:
        self.dispatcher.resume()

    def flush(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Resume and send everything queued now, retries included; wait; return the log."""
        return self.dispatcher.flush(timeout)

    def wait_for_deliveries(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until every delivery succeeded or gave up; raise TimeoutError otherwise."""
        return self.dispatcher.wait(timeout)

    def pending_deliveries(self) -> int:
        return self.dispatcher.pending()

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: event, type, endpoint, url, attempt, status, error."""
        return self.dispatcher.deliveries()

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Events emitted so far, oldest first."""
        with self.store.lock:
            rows = list(reversed(self.store.all("event")))
            return [copy.deepcopy(e) for e in rows if event_type in (None, e["type"])]

    # faults

    def inject_fault(
        self,
        route: str,
        kind: str,
        share: float = 1.0,
        *,
        count: int | None = None,
        delay: float = 2.0,
        seed: int | None = 0,
    ) -> dict[str, Any]:
        """Answer requests matching `route` (`"POST /v1/customers*"`) with a fault.

        `kind` is `"500"`, `"429"` (with Retry-After) or `"delay"` (sleep `delay` seconds, then
        answer normally). `count=N` hits exactly the next N matching requests; otherwise a
        seeded `share` of them.
        """
        return self.faults.add(route, kind, share, count=count, delay=delay, seed=seed).describe()

    def clear_faults(self) -> None:
        self.faults.clear()
