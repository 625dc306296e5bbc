"""The locmem backend: the contract suite, plus what host projects use it for in their tests."""

from __future__ import annotations

import time

import pytest

from django_payments_sync.backends import get_backend, get_backend_class
from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.locmem import (
    SIGNATURE_HEADER,
    LocmemBackend,
    sign_locmem_payload,
)
from django_payments_sync.backends.types import (
    CheckoutData,
    CustomerData,
    PriceData,
    ProductData,
    SubscriptionData,
)
from django_payments_sync.exceptions import (
    PaymentsSyncImproperlyConfigured,
    TransientProviderError,
    UnsupportedOperation,
    WebhookVerificationError,
)
from django_payments_sync.testing.contract_lifecycle import LifecycleContract


class TestLocmemContract(LifecycleContract):
    @pytest.fixture
    def backend(self) -> LocmemBackend:
        return LocmemBackend()

    def emitted_webhooks(self, backend: BaseBackend) -> list[tuple[bytes, dict[str, str]]]:
        assert isinstance(backend, LocmemBackend)
        return [backend.signed_request(event) for event in backend.pop_events()]


def test_every_call_is_recorded_and_writes_are_told_apart() -> None:
    backend = LocmemBackend()
    customer = backend.create_customer(
        CustomerData(local_id="1", email="a@example.com"), idempotency_key="k1"
    )
    list(backend.list_customers())
    assert [c.operation for c in backend.calls] == ["create_customer", "list_customers"]
    assert [c.operation for c in backend.write_calls] == ["create_customer"]
    assert backend.calls_to("create_customer")[0].kwargs == {"idempotency_key": "k1"}
    assert backend.calls[0].args[0].email == "a@example.com"
    assert customer.id.startswith("cus_")


def test_fail_next_raises_and_changes_nothing() -> None:
    backend = LocmemBackend()
    backend.fail_next("create_customer", TransientProviderError("down"), times=2)
    data = CustomerData(local_id="1", email="a@example.com")
    for _ in range(2):
        with pytest.raises(TransientProviderError):
            backend.create_customer(data, idempotency_key="k")
    assert backend.customers == {}
    assert backend.create_customer(data, idempotency_key="k").email == "a@example.com"


def test_complete_checkout_creates_customer_and_subscription_with_events() -> None:
    backend = LocmemBackend()
    product = backend.create_product(ProductData(local_id="1", name="Pro"), idempotency_key="p")
    price = backend.create_price(
        PriceData(
            local_id="1", product_id=product.id, amount=900, currency="eur", interval="month"
        ),
        idempotency_key="pr",
    )
    session = backend.create_checkout_session(
        CheckoutData(
            mode="subscription",
            price_id=price.id,
            quantity=2,
            success_url="https://x/ok",
            cancel_url="https://x/no",
            customer_email="new@example.com",
        ),
        idempotency_key="cs",
    )
    backend.pop_events()
    done = backend.complete_checkout(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.customer_id in backend.customers
    sub = backend.subscriptions[done.subscription_id or ""]
    assert (sub.price_id, sub.quantity, sub.status) == (price.id, 2, "active")
    types = [e.type for e in backend.pop_events()]
    assert types == [
        "customer.created",
        "subscription.created",
        "checkout.completed",
    ]


def test_old_signatures_are_refused() -> None:
    backend = LocmemBackend(tolerance=60)
    backend.create_customer(CustomerData(local_id="1", email="a@example.com"), idempotency_key="k")
    event = backend.pop_events()[0]
    body, _ = backend.signed_request(event)
    old = {
        SIGNATURE_HEADER: sign_locmem_payload(body, "locmem-webhook-secret", int(time.time()) - 120)
    }
    with pytest.raises(WebhookVerificationError):
        backend.verify_webhook(body, old)
    wrong_secret = {SIGNATURE_HEADER: sign_locmem_payload(body, "other")}
    with pytest.raises(WebhookVerificationError):
        backend.verify_webhook(body, wrong_secret)


def test_reused_idempotency_key_with_other_params_is_an_error() -> None:
    backend = LocmemBackend()
    backend.create_customer(CustomerData(local_id="1", email="a@example.com"), idempotency_key="k")
    with pytest.raises(Exception, match="Idempotency key"):
        backend.create_customer(
            CustomerData(local_id="1", email="b@example.com"), idempotency_key="k"
        )


def test_loaded_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYMENTS_SYNC = {
        "BACKEND": "django_payments_sync.backends.locmem.LocmemBackend",
        "OPTIONS": {"webhook_secret": "s3cret"},
    }
    backend = get_backend()
    assert isinstance(backend, LocmemBackend)
    assert backend.options["webhook_secret"] == "s3cret"
    assert get_backend() is backend  # one instance, so tests can inspect it


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(PaymentsSyncImproperlyConfigured, match="api_key"):
        get_backend_class("django_payments_sync.backends.locmem.LocmemBackend")(api_key="x")


def test_base_backend_refuses_everything_with_a_typed_error() -> None:
    class Nothing(BaseBackend):
        provider_name = "nothing"

    with pytest.raises(UnsupportedOperation, match="creating customers"):
        Nothing().create_customer(CustomerData(local_id="1", email="a@x"), idempotency_key="k")


def test_first_invoice_and_its_event_on_request() -> None:
    backend = LocmemBackend(invoice_events=True)
    customer = backend.create_customer(
        CustomerData(local_id="1", email="a@x.io"), idempotency_key="c"
    )
    product = backend.create_product(ProductData(local_id="1", name="Pro"), idempotency_key="p")
    price = backend.create_price(
        PriceData(
            local_id="1", product_id=product.id, amount=900, currency="eur", interval="month"
        ),
        idempotency_key="pr",
    )
    backend.pop_events()
    sub = backend.create_subscription(
        SubscriptionData(local_id="1", customer_id=customer.id, price_id=price.id, quantity=2),
        idempotency_key="s",
    )
    [invoice] = backend.list_invoices(customer.id)
    assert (invoice.subscription_id, invoice.amount_paid, invoice.status) == (sub.id, 1800, "paid")
    assert [e.type for e in backend.pop_events()] == [
        "subscription.created",
        "invoice.paid",
    ]
