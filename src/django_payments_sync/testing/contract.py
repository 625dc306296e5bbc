"""The provider contract as one test suite: every backend subclasses it and must pass it all."""

from __future__ import annotations

from typing import Any

import pytest

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    Address,
    Capability,
    CheckoutData,
    CustomerData,
    EventKind,
    MeterData,
    PriceData,
    ProductData,
    ProviderCustomer,
    ProviderEvent,
    SubscriptionData,
    TaxIdData,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
    ProviderError,
    UnsupportedOperation,
    WebhookVerificationError,
)


class BackendContract:
    """Subclasses provide the ``backend`` fixture and :meth:`emitted_webhooks`.

    Every test talks to the backend only through the provider-neutral contract, so a new
    backend gets the whole suite by subclassing (anymail's ``webhook_cases`` idea).
    """

    @pytest.fixture
    def backend(self) -> BaseBackend:
        raise NotImplementedError

    def emitted_webhooks(self, backend: BaseBackend) -> list[tuple[bytes, dict[str, str]]]:
        """Signed webhook requests for the events the backend's state changes produced so far."""
        raise NotImplementedError

    # --- helpers --------------------------------------------------------------------------
    def customer(self, backend: BaseBackend, local_id: str = "1", **kwargs: Any) -> str:
        data = CustomerData(local_id=local_id, email=f"c{local_id}@example.com", **kwargs)
        return backend.create_customer(data, idempotency_key=f"contract-cus-{local_id}-{kwargs}").id

    def product(self, backend: BaseBackend, local_id: str = "1", name: str = "Pro") -> str:
        data = ProductData(local_id=local_id, name=name, metadata={"seats": "5"})
        return backend.create_product(data, idempotency_key=f"contract-prod-{local_id}-{name}").id

    def price(
        self,
        backend: BaseBackend,
        product_id: str,
        amount: int = 1500,
        interval: str | None = "month",
    ) -> str:
        data = PriceData(
            local_id=f"{product_id}-{amount}-{interval}",
            product_id=product_id,
            amount=amount,
            currency="eur",
            interval=interval,
        )
        return backend.create_price(data, idempotency_key=f"contract-{data.local_id}").id

    # --- declaration ----------------------------------------------------------------------
    def test_declares_provider_and_capabilities(self, backend: BaseBackend) -> None:
        assert backend.provider_name
        assert backend.supports(Capability.CUSTOMERS)
        assert backend.supports(Capability.PRODUCTS)

    # --- customers ------------------------------------------------------------------------
    def test_create_customer_keeps_local_identity(self, backend: BaseBackend) -> None:
        address = Address(line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")
        created = backend.create_customer(
            CustomerData(local_id="7", email="a@example.com", name="Acme", address=address),
            idempotency_key="contract-create-7",
        )
        assert created.id
        assert (created.email, created.name, created.tax_exemption) == (
            "a@example.com",
            "Acme",
            "none",
        )
        assert created.address == address
        assert created.metadata[METADATA_ID_KEY] == "7"
        assert created.id in {c.id for c in backend.list_customers()}

    def test_create_with_the_same_idempotency_key_creates_one_customer(
        self, backend: BaseBackend
    ) -> None:
        data = CustomerData(local_id="8", email="b@example.com")
        first = backend.create_customer(data, idempotency_key="contract-once")
        again = backend.create_customer(data, idempotency_key="contract-once")
        assert first.id == again.id
        assert [c.id for c in backend.list_customers()] == [first.id]

    def test_update_customer_replaces_fields_and_merges_metadata(
        self, backend: BaseBackend
    ) -> None:
        customer_id = self.customer(backend, metadata={"plan": "pro", "team": "x"})
        updated = backend.update_customer(
            customer_id,
            CustomerData(
                local_id="1", email="new@example.com", name="New", metadata={"plan": "max"}
            ),
        )
        assert (updated.email, updated.name) == ("new@example.com", "New")
        # Merged: other tools may keep their own keys on a customer; we only set ours.
        assert updated.metadata == {"plan": "max", "team": "x", METADATA_ID_KEY: "1"}
        listed = {c.id: c for c in backend.list_customers()}
        assert listed[customer_id].metadata == updated.metadata

    def test_update_unknown_customer_is_not_found(self, backend: BaseBackend) -> None:
        with pytest.raises(ObjectNotFound) as info:
            backend.update_customer(
                "cus_missing", CustomerData(local_id="1", email="x@example.com")
            )
        assert info.value.user_message

    def test_delete_customer(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        backend.delete_customer(customer_id)
        assert customer_id not in {c.id for c in backend.list_customers()}
        with pytest.raises(ObjectNotFound):
            backend.delete_customer(customer_id)

    def test_tax_exemption(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        assert backend.set_tax_exemption(customer_id, "reverse").tax_exemption == "reverse"
        assert backend.set_tax_exemption(customer_id, "none").tax_exemption == "none"

    def test_tax_ids_add_list_remove(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        added = backend.add_tax_id(customer_id, TaxIdData(type="eu_vat", value="DE123456789"))
        assert (added.type, added.value, added.customer_id) == (
            "eu_vat",
            "DE123456789",
            customer_id,
        )
        assert [t.id for t in backend.list_tax_ids(customer_id)] == [added.id]
        backend.delete_tax_id(customer_id, added.id)
        assert backend.list_tax_ids(customer_id) == []

    def test_invalid_tax_id_is_permanent_with_a_user_message(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        with pytest.raises(PermanentProviderError) as info:
            backend.add_tax_id(customer_id, TaxIdData(type="eu_vat", value="123"))
        assert not info.value.retryable
        assert "tax ID" in info.value.user_message

    # --- catalog --------------------------------------------------------------------------
    def test_product_create_update_archive(self, backend: BaseBackend) -> None:
        product_id = self.product(backend)
        updated = backend.update_product(
            product_id, ProductData(local_id="1", name="Pro 2", description="More", metadata={})
        )
        assert (updated.name, updated.description, updated.active) == ("Pro 2", "More", True)
        # The "seats" key the product was created with is gone: local metadata is the truth.
        assert updated.metadata == {METADATA_ID_KEY: "1"}
        assert backend.archive_product(product_id).active is False
        listed = {p.id: p for p in backend.list_products()}
        assert listed[product_id].active is False

    def test_prices_recurring_and_one_time(self, backend: BaseBackend) -> None:
        product_id = self.product(backend)
        monthly = self.price(backend, product_id, 1500, "month")
        once = self.price(backend, product_id, 9900, None)
        listed = {p.id: p for p in backend.list_prices(product_id=product_id)}
        assert (listed[monthly].amount, listed[monthly].interval, listed[monthly].currency) == (
            1500,
            "month",
            "eur",
        )
        assert listed[once].interval is None
        assert listed[monthly].metadata[METADATA_ID_KEY] == f"{product_id}-1500-month"

    def test_price_archive_and_update(self, backend: BaseBackend) -> None:
        product_id = self.product(backend)
        price_id = self.price(backend, product_id)
        data = PriceData(
            local_id="p1",
            product_id=product_id,
            amount=1500,
            currency="eur",
            interval="month",
            nickname="Monthly",
            metadata={"tier": "a"},
        )
        updated = backend.update_price_metadata(price_id, data)
        assert updated.nickname == "Monthly"
        assert updated.metadata == {"tier": "a", METADATA_ID_KEY: "p1"}
        assert updated.amount == 1500
        assert backend.archive_price(price_id).active is False
        assert [p.id for p in backend.list_prices(product_id=product_id, active=True)] == []
        assert [p.id for p in backend.list_prices(product_id=product_id, active=False)] == [
            price_id
        ]

    def test_entitlement_features_attach_and_detach(self, backend: BaseBackend) -> None:
        """``Capability.ENTITLEMENTS``: features by lookup key, attached to products; a
        backend without it refuses each operation clearly."""
        product = self.product(backend)
        if not backend.supports(Capability.ENTITLEMENTS):
            for call in (
                lambda: list(backend.list_entitlement_features()),
                lambda: backend.create_entitlement_feature("sso", "SSO", idempotency_key="f"),
                lambda: list(backend.list_product_features(product)),
                lambda: backend.attach_product_feature(product, "feat", idempotency_key="a"),
                lambda: backend.detach_product_feature(product, "prodft"),
            ):
                with pytest.raises(UnsupportedOperation, match="entitlement features"):
                    call()
            return
        feature = backend.create_entitlement_feature("sso", "SSO", idempotency_key="c-feat-1")
        assert (feature.lookup_key, feature.name, feature.active) == ("sso", "SSO", True)
        again = backend.create_entitlement_feature("sso", "SSO", idempotency_key="c-feat-1")
        assert again.id == feature.id  # the same key: the same feature
        with pytest.raises(PermanentProviderError):  # one feature per lookup key
            backend.create_entitlement_feature("sso", "SSO", idempotency_key="c-feat-2")
        assert [f.id for f in backend.list_entitlement_features()] == [feature.id]
        attached = backend.attach_product_feature(product, feature.id, idempotency_key="c-at-1")
        assert (attached.feature_id, attached.lookup_key) == (feature.id, "sso")
        assert [pf.id for pf in backend.list_product_features(product)] == [attached.id]
        backend.detach_product_feature(product, attached.id)
        assert list(backend.list_product_features(product)) == []
        with pytest.raises(ObjectNotFound):
            backend.detach_product_feature(product, attached.id)

    def test_metered_prices(self, backend: BaseBackend) -> None:
        """``Capability.METERS``: a recurring price naming a meter is metered, and its
        subscription takes no quantity; a backend without meters refuses such a price."""
        product = self.product(backend)
        if not backend.supports(Capability.METERS):
            data = PriceData(
                local_id="m",
                product_id=product,
                amount=5,
                currency="eur",
                interval="month",
                meter_id="mtr_contract",
            )
            with pytest.raises(UnsupportedOperation, match="metered prices"):
                backend.create_price(data, idempotency_key="contract-metered")
            return
        meter = backend.create_meter(
            MeterData(
                local_id="1", display_name="Calls", event_name="contract_calls", aggregation="sum"
            ),
            idempotency_key="contract-meter",
        )
        data = PriceData(
            local_id="m",
            product_id=product,
            amount=5,
            currency="eur",
            interval="month",
            meter_id=meter.id,
        )
        price = backend.create_price(data, idempotency_key="contract-metered")
        assert (price.meter_id, price.interval, price.amount) == (meter.id, "month", 5)
        licensed = self.price(backend, product)
        listed = {p.id: p.meter_id for p in backend.list_prices(product_id=product)}
        assert listed == {price.id: meter.id, licensed: None}
        with pytest.raises(PermanentProviderError):  # metered means recurring
            backend.create_price(
                PriceData(
                    local_id="m1",
                    product_id=product,
                    amount=5,
                    currency="eur",
                    meter_id=meter.id,
                ),
                idempotency_key="contract-metered-one-time",
            )
        subscription = backend.create_subscription(
            SubscriptionData(
                local_id="m", customer_id=self.customer(backend), price_id=price.id, metered=True
            ),
            idempotency_key="contract-metered-sub",
        )
        assert subscription.price_id == price.id

    def test_price_of_unknown_product_fails_permanently(self, backend: BaseBackend) -> None:
        data = PriceData(local_id="x", product_id="prod_missing", amount=100, currency="eur")
        with pytest.raises(PermanentProviderError):
            backend.create_price(data, idempotency_key="contract-missing-product")

    # --- subscriptions --------------------------------------------------------------------
    #: Where a subscription is billed to: a provider that computes tax (Paddle) needs it.
    billing_address = Address(line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")

    def test_subscription_lifecycle(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend, address=self.billing_address)
        product_id = self.product(backend)
        monthly = self.price(backend, product_id, 1500)
        bigger = self.price(backend, product_id, 2500)
        data = SubscriptionData(
            local_id="s1", customer_id=customer_id, price_id=monthly, trial_period_days=14
        )
        sub = backend.create_subscription(data, idempotency_key="contract-sub-1")
        assert sub == backend.create_subscription(data, idempotency_key="contract-sub-1")
        assert (sub.status, sub.price_id, sub.quantity) == ("trialing", monthly, 1)
        assert sub.metadata[METADATA_ID_KEY] == "s1"
        assert sub.trial_end is not None

        changed = backend.update_subscription(
            sub.id, price_id=bigger, quantity=3, proration_behavior="none"
        )
        assert (changed.price_id, changed.quantity) == (bigger, 3)
        at_end = backend.cancel_subscription(sub.id, at_period_end=True)
        assert at_end.cancel_at_period_end is True
        assert at_end.status == "trialing"
        ended = backend.cancel_subscription(sub.id, at_period_end=False)
        assert ended.status == "canceled"
        assert [s.id for s in backend.list_subscriptions(customer_id)] == [sub.id]
        [invoice] = [i for i in backend.list_invoices(customer_id) if i.subscription_id == sub.id]
        assert (invoice.amount_due, invoice.currency) == (0, "eur")  # a trial starts free

    def test_subscription_needs_a_recurring_price(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend, address=self.billing_address)
        once = self.price(backend, self.product(backend), 900, None)
        data = SubscriptionData(local_id="s2", customer_id=customer_id, price_id=once)
        with pytest.raises(PermanentProviderError):
            backend.create_subscription(data, idempotency_key="contract-sub-2")

    # --- checkout and portal --------------------------------------------------------------
    def test_checkout_sessions(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        product_id = self.product(backend)
        monthly = self.price(backend, product_id, 1500)
        once = self.price(backend, product_id, 900, None)
        sub = backend.create_checkout_session(
            CheckoutData(
                mode="subscription",
                price_id=monthly,
                quantity=1,
                success_url="https://shop.example/ok",
                cancel_url="https://shop.example/cancel",
                customer_id=customer_id,
                client_reference_id="order-1",
            ),
            idempotency_key="contract-cs-1",
        )
        assert sub.url.startswith("http")
        assert (sub.mode, sub.status, sub.customer_id) == ("subscription", "open", customer_id)
        assert sub.client_reference_id == "order-1"
        pay = backend.create_checkout_session(
            CheckoutData(
                mode="payment",
                price_id=once,
                quantity=2,
                success_url="https://shop.example/ok",
                cancel_url="https://shop.example/cancel",
                customer_email="guest@example.com",
            ),
            idempotency_key="contract-cs-2",
        )
        assert (pay.mode, pay.payment_status) == ("payment", "unpaid")

    def test_portal_session(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        portal = backend.create_portal_session(customer_id, "https://shop.example/account")
        assert portal.url.startswith("http")
        assert portal.customer_id == customer_id

    # --- webhooks -------------------------------------------------------------------------
    def test_state_changes_produce_verifiable_events(self, backend: BaseBackend) -> None:
        self.emitted_webhooks(backend)  # forget earlier ones
        customer_id = self.customer(backend, local_id="42")
        requests = self.emitted_webhooks(backend)
        events: list[ProviderEvent] = [backend.verify_webhook(b, h) for b, h in requests]
        # In the library's vocabulary: the kind, the neutral object, the ordering key.
        created = [e for e in events if e.kind is EventKind.CUSTOMER_CREATED]
        assert len(created) == 1
        assert created[0].object_id == customer_id
        assert created[0].customer_id == customer_id
        assert created[0].provider == backend.provider_name
        assert isinstance(created[0].data, ProviderCustomer)
        assert created[0].data.id == customer_id
        assert created[0].data.metadata.get(METADATA_ID_KEY) == "42"
        assert created[0].ordering_key == f"customer:{customer_id}"
        assert backend.event_kind(created[0].type) is EventKind.CUSTOMER_CREATED
        again = backend.parse_event(created[0].raw)
        assert (again.id, again.kind, again.data) == (
            created[0].id,
            created[0].kind,
            created[0].data,
        )

    def test_tampered_webhook_is_refused(self, backend: BaseBackend) -> None:
        self.emitted_webhooks(backend)
        self.customer(backend)
        body, headers = self.emitted_webhooks(backend)[0]
        with pytest.raises(WebhookVerificationError):
            backend.verify_webhook(body.replace(b"customer", b"kustomer", 1), headers)
        with pytest.raises(WebhookVerificationError):
            backend.verify_webhook(body, {})

    def test_webhook_endpoints(self, backend: BaseBackend) -> None:
        endpoint = backend.create_webhook_endpoint(
            "https://shop.example/api/payment/stripe/webhook/"
        )
        assert endpoint.secret
        listed = {e.id: e for e in backend.list_webhook_endpoints()}
        assert listed[endpoint.id].url == endpoint.url
        backend.delete_webhook_endpoint(endpoint.id)
        assert endpoint.id not in {e.id for e in backend.list_webhook_endpoints()}

    # --- re-fetch -------------------------------------------------------------------------
    def test_retrieve(self, backend: BaseBackend) -> None:
        customer_id = self.customer(backend)
        assert backend.retrieve("customer", customer_id)["id"] == customer_id
        with pytest.raises(ObjectNotFound):
            backend.retrieve("customer", "cus_missing")

    def test_errors_are_provider_errors(self, backend: BaseBackend) -> None:
        with pytest.raises(ProviderError):
            backend.archive_product("prod_missing")
