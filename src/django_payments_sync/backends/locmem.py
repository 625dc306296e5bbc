"""An in-memory payment provider for tests: keeps state in the process and records every call."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Collection, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    NEUTRAL_OBJECT_TYPES,
    Capability,
    CheckoutData,
    CheckoutSession,
    CustomerData,
    EventKind,
    PortalSession,
    PriceData,
    ProductData,
    ProviderCustomer,
    ProviderEvent,
    ProviderInvoice,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
    SubscriptionData,
    TaxIdData,
    WebhookEndpoint,
    event_kind,
    from_dict,
    ordering_key_of,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
    ProviderError,
    WebhookVerificationError,
)

#: Header carrying the signature of a locmem webhook: ``t=<unix time>,v1=<hex HMAC-SHA256>``.
SIGNATURE_HEADER = "X-Payments-Sync-Signature"

#: Operations that change provider state (the ones a "zero write calls" assertion counts).
WRITE_OPERATIONS = frozenset(
    {
        "create_customer",
        "update_customer",
        "delete_customer",
        "set_tax_exemption",
        "add_tax_id",
        "delete_tax_id",
        "create_product",
        "update_product",
        "archive_product",
        "create_price",
        "archive_price",
        "update_price_metadata",
        "create_subscription",
        "update_subscription",
        "cancel_subscription",
        "create_checkout_session",
        "create_portal_session",
        "create_webhook_endpoint",
        "delete_webhook_endpoint",
    }
)

_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class LocmemCall:
    """One operation called on a :class:`LocmemBackend`, for assertions in tests."""

    operation: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def is_write(self) -> bool:
        return self.operation in WRITE_OPERATIONS


def sign_locmem_payload(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for ``body``, as :class:`LocmemBackend` verifies it."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class LocmemBackend(BaseBackend):
    """A complete fake provider living in the process, like Django's locmem email backend.

    It generates ids, keeps state, honours idempotency keys, records every call in
    :attr:`calls` and appends a provider-neutral :class:`ProviderEvent` to :attr:`events` for
    every state change (``pop_events()`` hands them over, e.g. to feed the webhook pipeline).
    :meth:`fail_next` makes the next call(s) of an operation raise a given error.
    """

    provider_name = "locmem"
    display_name = "In-memory"
    capabilities = frozenset(Capability)
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "webhook_secret": "locmem-webhook-secret",
        "tolerance": None,
        # Off by default: most tests want the subscription's events, not its payment's.
        "invoice_events": False,
        # What account_id() answers: two backends with different values are two accounts.
        "account": "locmem",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.reset()

    def account_id(self) -> str:
        """The ``account`` option (not recorded as a call: it is asked before every push)."""
        return str(self.options["account"])

    # --- test helpers ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every object, call, event and pending failure."""
        self._ids = itertools.count(1)
        self.customers: dict[str, ProviderCustomer] = {}
        self.deleted_customers: set[str] = set()
        self.tax_ids: dict[str, ProviderTaxId] = {}
        self.products: dict[str, ProviderProduct] = {}
        self.prices: dict[str, ProviderPrice] = {}
        self.subscriptions: dict[str, ProviderSubscription] = {}
        self.checkout_sessions: dict[str, CheckoutSession] = {}
        self.portal_sessions: dict[str, PortalSession] = {}
        self.invoices: dict[str, ProviderInvoice] = {}
        self.webhook_endpoints: dict[str, WebhookEndpoint] = {}
        self.calls: list[LocmemCall] = []
        self.events: list[ProviderEvent] = []
        self._idempotency: dict[tuple[str, str], tuple[str, Any]] = {}
        self._failures: dict[str, list[ProviderError]] = {}

    @property
    def write_calls(self) -> list[LocmemCall]:
        return [c for c in self.calls if c.is_write]

    def calls_to(self, operation: str) -> list[LocmemCall]:
        return [c for c in self.calls if c.operation == operation]

    def fail_next(self, operation: str, error: ProviderError, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` raise ``error`` (changing nothing)."""
        self._failures.setdefault(operation, []).extend([error] * times)

    def pop_events(self) -> list[ProviderEvent]:
        events, self.events = self.events, []
        return events

    def signed_request(self, event: ProviderEvent) -> tuple[bytes, dict[str, str]]:
        """A webhook body and headers for ``event`` that :meth:`verify_webhook` accepts."""
        body = json.dumps(event.raw, sort_keys=True).encode()
        return body, {SIGNATURE_HEADER: sign_locmem_payload(body, self.options["webhook_secret"])}

    def complete_checkout(self, session_id: str) -> CheckoutSession:
        """Play the customer paying a checkout session: customer, subscription, events."""
        self._record("complete_checkout", (session_id,), {})
        session = self._get(self.checkout_sessions, session_id, "checkout session")
        customer_id = session.customer_id
        if customer_id is None:
            customer = self._new_customer(
                CustomerData(local_id="", email=session.customer_email or "")
            )
            customer_id = customer.id
        subscription_id = None
        if session.mode == "subscription":
            price_id = session.metadata.get("_price_id", "")
            quantity = int(session.metadata.get("_quantity", "1"))
            sub = self._new_subscription(
                SubscriptionData(
                    local_id="", customer_id=customer_id, price_id=price_id, quantity=quantity
                )
            )
            subscription_id = sub.id
        session = dataclasses.replace(
            session,
            status="complete",
            payment_status="paid",
            customer_id=customer_id,
            subscription_id=subscription_id,
        )
        self.checkout_sessions[session.id] = session
        self._emit(EventKind.CHECKOUT_COMPLETED, "checkout.session", session, customer_id)
        return session

    # --- internals ------------------------------------------------------------------------
    def _record(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.calls.append(LocmemCall(operation, args, kwargs))
        pending = self._failures.get(operation)
        if pending:
            raise pending.pop(0)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_locmem{next(self._ids):06d}"

    def _get(self, table: dict[str, _T], object_id: str, label: str) -> _T:
        try:
            return table[object_id]
        except KeyError:
            raise ObjectNotFound(f"No such {label}: {object_id!r}") from None

    def _idempotent(self, key: str | None, operation: str, request: Any) -> Any | None:
        """The earlier answer to this key, if any; a reused key with other params is an error."""
        if not key:
            return None
        seen = self._idempotency.get((operation, key))
        if seen is None:
            return None
        earlier_request, answer = seen
        if earlier_request != repr(request):
            raise PermanentProviderError(
                f"Idempotency key {key!r} was already used with other parameters.",
                code="idempotency_error",
            )
        return answer

    def _remember(self, key: str | None, operation: str, request: Any, answer: Any) -> None:
        if key:
            self._idempotency[(operation, key)] = (repr(request), answer)

    def _emit(
        self,
        event_type: EventKind,
        object_type: str,
        obj: Any,
        customer_id: str | None,
        previous: Mapping[str, Any] | None = None,
    ) -> ProviderEvent:
        payload = {**_jsonable(obj), "object": object_type}
        event_id = self._new_id("evt")
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        raw = {
            "id": event_id,
            "type": str(event_type),
            "created": int(created.timestamp()),
            "livemode": False,
            "customer": customer_id,
            "data": {"object": payload, "previous_attributes": _jsonable(dict(previous or {}))},
        }
        event = self.parse_event(raw)
        self.events.append(event)
        return event

    @staticmethod
    def _with_identity(local_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        identity = {METADATA_ID_KEY: local_id} if local_id else {}
        return {**metadata, **identity}

    # --- customers ------------------------------------------------------------------------
    def _new_customer(self, data: CustomerData) -> ProviderCustomer:
        customer = ProviderCustomer(
            id=self._new_id("cus"),
            email=data.email,
            name=data.name,
            tax_exemption=data.tax_exemption,
            address=data.address,
            metadata=self._with_identity(data.local_id, data.metadata),
            created=dt.datetime.now(dt.UTC),
        )
        self.customers[customer.id] = customer
        self._emit(EventKind.CUSTOMER_CREATED, "customer", customer, customer.id)
        return customer

    def create_customer(self, data: CustomerData, *, idempotency_key: str) -> ProviderCustomer:
        self._record("create_customer", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_customer", data)
        if earlier is not None:
            return self.customers.get(earlier.id, earlier)
        customer = self._new_customer(data)
        self._remember(idempotency_key, "create_customer", data, customer)
        return customer

    def update_customer(
        self,
        customer_id: str,
        data: CustomerData,
        *,
        idempotency_key: str | None = None,
        fields: Collection[str] | None = None,
    ) -> ProviderCustomer:
        self._record(
            "update_customer",
            (customer_id, data),
            {"idempotency_key": idempotency_key, "fields": fields},
        )
        old = self._get(self.customers, customer_id, "customer")
        changes: dict[str, Any] = {
            "email": data.email,
            "name": data.name,
            "tax_exemption": data.tax_exemption,
            "address": data.address,
            # Merged: a customer's other metadata is not ours to remove (see the contract).
            "metadata": {**old.metadata, **self._with_identity(data.local_id, data.metadata)},
        }
        if fields is not None:
            changes = {k: v for k, v in changes.items() if k in fields}
        new = dataclasses.replace(old, **changes)
        self.customers[customer_id] = new
        self._emit(EventKind.CUSTOMER_UPDATED, "customer", new, customer_id, _changed(old, new))
        return new

    def delete_customer(self, customer_id: str) -> None:
        self._record("delete_customer", (customer_id,), {})
        customer = self._get(self.customers, customer_id, "customer")
        del self.customers[customer_id]
        self.deleted_customers.add(customer_id)
        for tax_id in [t for t in self.tax_ids.values() if t.customer_id == customer_id]:
            del self.tax_ids[tax_id.id]
        for sub in [s for s in self.subscriptions.values() if s.customer_id == customer_id]:
            if sub.status != "canceled":
                self._end_subscription(sub)
        self._emit(EventKind.CUSTOMER_DELETED, "customer", customer, customer_id)

    def set_tax_exemption(self, customer_id: str, exemption: str) -> ProviderCustomer:
        self._record("set_tax_exemption", (customer_id, exemption), {})
        if exemption not in ("none", "exempt", "reverse"):
            raise PermanentProviderError(
                f"Invalid tax exemption {exemption!r}.", code="parameter_invalid_string_empty"
            )
        old = self._get(self.customers, customer_id, "customer")
        new = dataclasses.replace(old, tax_exemption=exemption)
        self.customers[customer_id] = new
        self._emit(EventKind.CUSTOMER_UPDATED, "customer", new, customer_id, _changed(old, new))
        return new

    def add_tax_id(
        self, customer_id: str, data: TaxIdData, *, idempotency_key: str | None = None
    ) -> ProviderTaxId:
        self._record("add_tax_id", (customer_id, data), {"idempotency_key": idempotency_key})
        self._get(self.customers, customer_id, "customer")
        earlier = self._idempotent(idempotency_key, "add_tax_id", (customer_id, data))
        if earlier is not None:
            return earlier
        if not data.value or not data.value[:2].isalpha():
            raise PermanentProviderError(
                f"Invalid value for {data.type}.",
                user_message="The tax ID is not valid.",
                code="tax_id_invalid",
                param="value",
            )
        tax_id = ProviderTaxId(
            id=self._new_id("txi"),
            customer_id=customer_id,
            type=data.type,
            value=data.value,
            verification_status="pending",
        )
        self.tax_ids[tax_id.id] = tax_id
        self._remember(idempotency_key, "add_tax_id", (customer_id, data), tax_id)
        self._emit(EventKind.TAX_ID_CREATED, "tax_id", tax_id, customer_id)
        return tax_id

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        self._record("delete_tax_id", (customer_id, tax_id), {})
        found = self._get(self.tax_ids, tax_id, "tax id")
        if found.customer_id != customer_id:
            raise ObjectNotFound(f"No such tax id: {tax_id!r}")
        del self.tax_ids[tax_id]
        self._emit(EventKind.TAX_ID_DELETED, "tax_id", found, customer_id)

    def list_tax_ids(self, customer_id: str) -> list[ProviderTaxId]:
        self._record("list_tax_ids", (customer_id,), {})
        self._get(self.customers, customer_id, "customer")
        return [t for t in self.tax_ids.values() if t.customer_id == customer_id]

    def list_customers(self, *, with_tax_ids: bool = False) -> Iterator[ProviderCustomer]:
        self._record("list_customers", (), {"with_tax_ids": with_tax_ids})
        customers = list(self.customers.values())
        if with_tax_ids:
            customers = [
                dataclasses.replace(
                    c,
                    tax_ids=tuple(
                        (t.type, t.value) for t in self.tax_ids.values() if t.customer_id == c.id
                    ),
                )
                for c in customers
            ]
        return iter(customers)

    # --- catalog --------------------------------------------------------------------------
    def create_product(self, data: ProductData, *, idempotency_key: str) -> ProviderProduct:
        self._record("create_product", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_product", data)
        if earlier is not None:
            return self.products.get(earlier.id, earlier)
        if not data.name:
            raise PermanentProviderError("Missing required param: name.", param="name")
        product = ProviderProduct(
            id=self._new_id("prod"),
            name=data.name,
            description=data.description,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.products[product.id] = product
        self._remember(idempotency_key, "create_product", data, product)
        self._emit(EventKind.PRODUCT_CREATED, "product", product, None)
        return product

    def update_product(
        self, product_id: str, data: ProductData, *, idempotency_key: str | None = None
    ) -> ProviderProduct:
        self._record("update_product", (product_id, data), {"idempotency_key": idempotency_key})
        old = self._get(self.products, product_id, "product")
        new = dataclasses.replace(
            old,
            name=data.name,
            description=data.description,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.products[product_id] = new
        self._emit(EventKind.PRODUCT_UPDATED, "product", new, None, _changed(old, new))
        return new

    def archive_product(self, product_id: str) -> ProviderProduct:
        self._record("archive_product", (product_id,), {})
        old = self._get(self.products, product_id, "product")
        new = dataclasses.replace(old, active=False)
        self.products[product_id] = new
        self._emit(EventKind.PRODUCT_UPDATED, "product", new, None, _changed(old, new))
        return new

    def list_products(self) -> Iterator[ProviderProduct]:
        self._record("list_products", (), {})
        return iter(list(self.products.values()))

    def create_price(self, data: PriceData, *, idempotency_key: str) -> ProviderPrice:
        self._record("create_price", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_price", data)
        if earlier is not None:
            return self.prices.get(earlier.id, earlier)
        self._get(self.products, data.product_id, "product")
        if data.interval not in (None, "day", "week", "month", "year"):
            raise PermanentProviderError(f"Invalid interval {data.interval!r}.", param="interval")
        price = ProviderPrice(
            id=self._new_id("price"),
            product_id=data.product_id,
            amount=data.amount,
            currency=data.currency.lower(),
            interval=data.interval,
            interval_count=data.interval_count,
            active=data.active,
            nickname=data.nickname,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.prices[price.id] = price
        self._remember(idempotency_key, "create_price", data, price)
        self._emit(EventKind.PRICE_CREATED, "price", price, None)
        return price

    def archive_price(self, price_id: str) -> ProviderPrice:
        self._record("archive_price", (price_id,), {})
        old = self._get(self.prices, price_id, "price")
        new = dataclasses.replace(old, active=False)
        self.prices[price_id] = new
        self._emit(EventKind.PRICE_UPDATED, "price", new, None, _changed(old, new))
        return new

    def update_price_metadata(self, price_id: str, data: PriceData) -> ProviderPrice:
        self._record("update_price_metadata", (price_id, data), {})
        old = self._get(self.prices, price_id, "price")
        new = dataclasses.replace(
            old,
            nickname=data.nickname,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.prices[price_id] = new
        self._emit(EventKind.PRICE_UPDATED, "price", new, None, _changed(old, new))
        return new

    def list_prices(
        self, *, product_id: str | None = None, active: bool | None = None
    ) -> Iterator[ProviderPrice]:
        self._record("list_prices", (), {"product_id": product_id, "active": active})
        return iter(
            [
                p
                for p in self.prices.values()
                if (product_id is None or p.product_id == product_id)
                and (active is None or p.active == active)
            ]
        )

    # --- subscriptions --------------------------------------------------------------------
    def _new_subscription(self, data: SubscriptionData) -> ProviderSubscription:
        self._get(self.customers, data.customer_id, "customer")
        price = self._get(self.prices, data.price_id, "price")
        if price.interval is None:
            raise PermanentProviderError(
                "A subscription needs a recurring price.", param="items[0][price]"
            )
        if not price.active:
            raise PermanentProviderError("The price is archived.", param="items[0][price]")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        trial_end = (
            now + dt.timedelta(days=data.trial_period_days) if data.trial_period_days else None
        )
        sub = ProviderSubscription(
            id=self._new_id("sub"),
            customer_id=data.customer_id,
            status="trialing" if trial_end else "active",
            price_id=price.id,
            quantity=data.quantity,
            item_id=self._new_id("si"),
            current_period_start=now,
            current_period_end=now + _period(price),
            trial_end=trial_end,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.subscriptions[sub.id] = sub
        self._emit(EventKind.SUBSCRIPTION_CREATED, "subscription", sub, sub.customer_id)
        # The first period is invoiced (and paid) at once; a trial's first invoice is zero.
        amount = 0 if trial_end else price.amount * data.quantity
        invoice = ProviderInvoice(
            id=self._new_id("in"),
            customer_id=sub.customer_id,
            subscription_id=sub.id,
            status="paid",
            amount_due=amount,
            amount_paid=amount,
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

    def _end_subscription(self, sub: ProviderSubscription) -> ProviderSubscription:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        ended = dataclasses.replace(sub, status="canceled", canceled_at=now, ended_at=now)
        self.subscriptions[sub.id] = ended
        self._emit(EventKind.SUBSCRIPTION_ENDED, "subscription", ended, sub.customer_id)
        return ended

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
        price = self._get(self.prices, data.price_id, "price")
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
            metadata={**data.metadata, "_price_id": price.id, "_quantity": str(data.quantity)},
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


def _changed(old: Any, new: Any) -> dict[str, Any]:
    """The fields of ``old`` that ``new`` changed, as a provider's ``previous_attributes``."""
    return {
        f.name: getattr(old, f.name)
        for f in dataclasses.fields(old)
        if getattr(old, f.name) != getattr(new, f.name)
    }


def _period(price: ProviderPrice) -> dt.timedelta:
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[price.interval or "month"]
    return dt.timedelta(days=days * price.interval_count)
