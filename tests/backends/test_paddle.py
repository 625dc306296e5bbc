"""The Paddle backend against the Paddle emulator over HTTP, through paddle-python-sdk: the
shipped contract suite, then what is Paddle's own (errors, retries, paging, trials, pause)."""

from __future__ import annotations

from typing import Any

import pytest

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.paddle import PaddleBackend
from django_payments_sync.backends.types import (
    Address,
    CheckoutData,
    CustomerData,
    EventKind,
    PriceData,
    ProductData,
    TaxIdData,
)
from django_payments_sync.exceptions import (
    PermanentProviderError,
    ProviderAuthenticationError,
    TransientProviderError,
)
from django_payments_sync.testing.contract import BackendContract
from django_payments_sync.testing.paddle_emulator import DEFAULT_API_KEY

WEBHOOK_SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_payments_sync_contract"


def paddle_backend(url: str, **overrides: Any) -> PaddleBackend:
    options: dict[str, Any] = {
        "api_key": DEFAULT_API_KEY,
        "api_base": url,
        "webhook_secret": WEBHOOK_SECRET,
        "timeout": 5.0,
        "max_retries": 2,
        "retry_backoff": 0.01,
        **overrides,
    }
    return PaddleBackend(**options)


class TestPaddleContract(BackendContract):
    @pytest.fixture
    def backend(self, paddle_emulator: Any) -> PaddleBackend:
        self.emulator = paddle_emulator
        self.seen = 0
        return paddle_backend(paddle_emulator.url)

    def emitted_webhooks(self, backend: BaseBackend) -> list[tuple[bytes, dict[str, str]]]:
        events = self.emulator.events()
        fresh, self.seen = events[self.seen :], len(events)
        signed = [self.emulator.signed_payload(e["event_id"], WEBHOOK_SECRET) for e in fresh]
        return [(body, {"Paddle-Signature": header}) for body, header in signed]


# --- Paddle's own ----------------------------------------------------------------------------
ADDRESS = Address(line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")


def _customer(backend: PaddleBackend, **kwargs: Any) -> str:
    data = CustomerData(local_id="1", email="a@example.com", **kwargs)
    return backend.create_customer(data, idempotency_key="k").id


def _price(backend: PaddleBackend, interval: str | None = "month", amount: int = 1500) -> str:
    product = backend.create_product(ProductData(local_id="1", name="Pro"), idempotency_key="p")
    data = PriceData(
        local_id=f"{amount}{interval}",
        product_id=product.id,
        amount=amount,
        currency="eur",
        interval=interval,
    )
    return backend.create_price(data, idempotency_key="pr").id


def _checkout(
    backend: PaddleBackend, price_id: str, mode: str = "subscription", **kwargs: Any
) -> Any:
    """A checkout session of one price (returning to shop.example)."""
    values: dict[str, Any] = {
        "quantity": 1,
        "success_url": "https://shop.example/ok",
        "cancel_url": "https://shop.example/no",
        **kwargs,
    }
    data = CheckoutData(mode=mode, price_id=price_id, **values)
    return backend.create_checkout_session(data, idempotency_key="-")


def test_built_from_settings_without_global_state(paddle_emulator: Any, settings: Any) -> None:
    settings.PAYMENTS_SYNC = {
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {"api_key": DEFAULT_API_KEY, "api_base": paddle_emulator.url},
    }
    backend = get_backend()
    assert isinstance(backend, PaddleBackend)
    assert _customer(backend).startswith("ctm_")
    other = PaddleBackend(api_key="pdl_sdbx_other", api_base=paddle_emulator.url, max_retries=0)
    # Each backend has its own client and key: the other one is refused, this one is not.
    with pytest.raises(ProviderAuthenticationError) as info:
        _customer(other)
    assert info.value.http_status == 403
    assert "not configured correctly" in info.value.user_message
    assert "pdl_sdbx" not in info.value.user_message
    assert list(backend.list_customers())


def test_the_address_and_the_business_tax_identifier(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    customer_id = _customer(backend, name="Acme GmbH", address=ADDRESS)
    added = backend.add_tax_id(customer_id, TaxIdData(type="eu_vat", value="de 123 456 789"))
    assert added.id.startswith("biz_")
    assert (added.value, added.verification_status) == ("DE123456789", "unavailable")
    # The VAT number is the business's tax_identifier at Paddle.
    business = paddle_emulator.client().businesses.get(customer_id, added.id)
    assert (business.tax_identifier, business.name) == ("DE123456789", "Acme GmbH")
    # Adding it again reuses the business.
    assert backend.add_tax_id(customer_id, TaxIdData(type="eu_vat", value="DE123456789")) == added
    [listed] = backend.list_customers(with_tax_ids=True)
    assert listed.address == ADDRESS
    assert listed.tax_ids == (("eu_vat", "DE123456789"),)
    moved = Address(line1="Rue 2", city="Paris", postal_code="75001", country="FR")
    updated = backend.update_customer(
        customer_id,
        CustomerData(local_id="1", email="a@example.com", address=moved),
        fields=["address"],
    )
    assert updated.address == moved
    assert updated.name == "Acme GmbH"  # not among the fields: left as Paddle holds it
    assert len(list(paddle_emulator.client().addresses.list(customer_id))) == 1
    backend.delete_tax_id(customer_id, added.id)
    assert backend.list_tax_ids(customer_id) == []


def test_the_tax_exemption_is_recorded_never_sent_as_tax(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    customer_id = _customer(backend, metadata={"team": "x"})
    assert backend.set_tax_exemption(customer_id, "reverse").tax_exemption == "reverse"
    raw = paddle_emulator.client().customers.get(customer_id)
    assert raw.custom_data.data["payments_sync_tax_exemption"] == "reverse"
    assert raw.custom_data.data["team"] == "x"  # merged, not replaced


def test_a_second_create_of_the_same_customer_finds_the_first(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    first = _customer(backend)
    backend.delete_customer(first)
    # Recreated after a deletion (RECREATE_DELETED): Paddle keeps one customer per email.
    again = backend.create_customer(
        CustomerData(local_id="1", email="a@example.com", name="Back"), idempotency_key="k2"
    )
    assert (again.id, again.name) == (first, "Back")
    assert [c.id for c in backend.list_customers()] == [first]
    # Another local customer with the same email is refused, with a safe message.
    with pytest.raises(PermanentProviderError) as info:
        backend.create_customer(
            CustomerData(local_id="2", email="a@example.com"), idempotency_key="x"
        )
    assert info.value.code == "customer_already_exists"
    assert info.value.user_message == "A customer with this email address exists already."


def test_server_errors_are_retried_then_transient(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url, max_retries=1)
    paddle_emulator.inject_fault("POST /customers", "500", count=1)
    assert _customer(backend).startswith("ctm_")  # retried once, then created
    paddle_emulator.inject_fault("POST /products", "500", count=2)
    with pytest.raises(TransientProviderError) as info:
        backend.create_product(ProductData(local_id="1", name="P"), idempotency_key="p")
    assert info.value.retryable
    assert info.value.http_status == 500
    assert "temporarily unavailable" in info.value.user_message
    assert list(backend.list_products()) == []


def test_rate_limit_is_transient(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url, max_retries=0)
    paddle_emulator.inject_fault("POST /products", "429", count=1)
    with pytest.raises(TransientProviderError) as info:
        backend.create_product(ProductData(local_id="1", name="P"), idempotency_key="p")
    assert info.value.http_status == 429


def test_timeout_and_unreachable_server_are_transient(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url, max_retries=0, timeout=0.3)
    paddle_emulator.inject_fault("GET /products*", "delay", count=1, delay=0.8)
    with pytest.raises(TransientProviderError):
        list(backend.list_products())
    far = PaddleBackend(api_key="x", api_base="http://127.0.0.1:9", max_retries=0, timeout=1.0)
    with pytest.raises(TransientProviderError):
        _customer(far)


def test_bad_request_names_the_field_at_fault(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    _price(backend, None)
    price = next(iter(backend.list_prices()))
    data = PriceData(
        local_id="1", product_id=price.product_id, amount=100, currency="eur", interval="fortnight"
    )
    with pytest.raises(PermanentProviderError) as info:
        backend.create_price(data, idempotency_key="bad")
    assert not info.value.retryable
    assert info.value.param
    assert "billing_cycle" in info.value.param
    assert info.value.http_status == 400


def test_lists_read_every_page(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    client = paddle_emulator.client()
    from paddle_billing.Entities.Shared import TaxCategory
    from paddle_billing.Resources.Products.Operations import CreateProduct

    for n in range(230):
        client.products.create(CreateProduct(name=f"P{n}", tax_category=TaxCategory.Standard))
    assert len({p.id for p in backend.list_products()}) == 230


def test_checkout_transaction_and_its_page(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    customer_id = _customer(backend, address=ADDRESS)
    price_id = _price(backend)
    session = _checkout(
        backend,
        price_id,
        quantity=2,
        customer_id=customer_id,
        client_reference_id="7",
        metadata={"payments_sync_attempt": "3"},
    )
    assert session.id.startswith("txn_")
    assert session.url.startswith(paddle_emulator.url)
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.metadata == {"payments_sync_attempt": "3"}
    paddle_emulator.pay_transaction(session.id)
    paid = backend.parse_event(
        {**paddle_emulator.events("transaction.completed")[-1], "notification_id": "ntf_x"}
    )
    assert paid.kind is EventKind.CHECKOUT_COMPLETED
    done = paid.data
    assert (done.status, done.payment_status, done.client_reference_id) == ("complete", "paid", "7")
    [sub] = backend.list_subscriptions(customer_id)
    assert (done.subscription_id, sub.price_id, sub.quantity, sub.status) == (
        sub.id,
        price_id,
        2,
        "active",
    )
    assert backend.retrieve("checkout.session", session.id)["status"] == "completed"


def test_a_business_with_a_vat_number_is_reverse_charged_at_checkout(paddle_emulator: Any) -> None:
    """The checkout carries the customer's business (its VAT number): Paddle, the merchant of
    record, adds no VAT for an EU business; a customer without one pays the VAT of its address."""
    backend = paddle_backend(paddle_emulator.url)
    paris = Address(line1="12 rue de la Paix", city="Paris", postal_code="75002", country="FR")
    company = _customer(backend, address=paris)
    business = backend.add_tax_id(company, TaxIdData(type="eu_vat", value="FR40303265045"))
    price_id = _price(backend, amount=2900)
    person = backend.create_customer(
        CustomerData(local_id="2", email="b@example.com", address=paris), idempotency_key="k2"
    ).id

    reverse = paddle_emulator.client().transactions.get(
        _checkout(backend, price_id, customer_id=company).id
    )
    vat = paddle_emulator.client().transactions.get(
        _checkout(backend, price_id, customer_id=person).id
    )

    assert reverse.business_id == business.id
    assert (reverse.details.totals.tax, reverse.details.totals.grand_total) == ("0", "2900")
    assert vat.business_id is None
    assert (vat.details.totals.tax, vat.details.totals.grand_total) == ("580", "3480")


def test_a_trial_rides_on_a_copy_of_the_price(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    customer_id = _customer(backend, address=ADDRESS)
    price_id = _price(backend)
    session = _checkout(backend, price_id, customer_id=customer_id, trial_period_days=7)
    paddle_emulator.pay_transaction(session.id)
    [sub] = backend.list_subscriptions(customer_id)
    # The library sees the catalog price; the copy stays out of the catalog.
    assert (sub.status, sub.price_id) == ("trialing", price_id)
    assert sub.trial_end is not None
    assert [p.id for p in backend.list_prices()] == [price_id]


def test_change_pause_resume_cancel_and_undo(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    customer_id = _customer(backend, address=ADDRESS)
    monthly = _price(backend)
    bigger = _price(backend, amount=2500)
    session = _checkout(backend, monthly, customer_id=customer_id)
    paddle_emulator.pay_transaction(session.id)
    [sub] = backend.list_subscriptions(customer_id)
    changed = backend.update_subscription(
        sub.id, price_id=bigger, quantity=3, proration_behavior="create_prorations"
    )
    assert (changed.price_id, changed.quantity) == (bigger, 3)
    raw = paddle_emulator.client().subscriptions.get(sub.id)
    assert raw.items[0].price.id == bigger
    more = backend.update_subscription(sub.id, quantity=4, proration_behavior="none")
    assert (more.price_id, more.quantity) == (bigger, 4)
    scheduled = backend.update_subscription(sub.id, cancel_at_period_end=True)
    assert scheduled.cancel_at_period_end
    assert scheduled.status == "active"
    undone = backend.update_subscription(sub.id, cancel_at_period_end=False)
    assert undone.cancel_at_period_end is False
    paused = backend.pause_subscription(sub.id, at_period_end=False)
    assert paused.status == "paused"
    assert backend.resume_subscription(sub.id).status == "active"
    ended = backend.cancel_subscription(sub.id, at_period_end=False)
    assert ended.status == "canceled"
    assert ended.ended_at is not None


def test_one_time_checkout_and_a_subscription_of_a_one_time_price(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    once = _price(backend, None)
    pay = _checkout(backend, once, "payment", customer_email="guest@example.com")
    assert (pay.mode, pay.customer_email, pay.customer_id) == ("payment", "guest@example.com", None)
    with pytest.raises(PermanentProviderError) as info:
        _checkout(backend, once)
    assert info.value.param == "price_id"


def test_portal_and_refetch(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    customer_id = _customer(backend, address=ADDRESS)
    portal = backend.create_portal_session(customer_id, "https://shop.example/account")
    assert portal.url.startswith("http")
    assert portal.return_url == "https://shop.example/account"
    created = backend.parse_event(paddle_emulator.events("customer.created")[-1])
    paddle_emulator.update_entity(customer_id, {"name": "Renamed"})
    fresh = backend.refetch(created)
    assert (fresh.id, fresh.kind) == (created.id, created.kind)
    assert fresh.data.name == "Renamed"
    address_event = backend.parse_event(paddle_emulator.events("address.created")[-1])
    assert backend.refetch(address_event).data == ADDRESS


def test_events_list_for_replay(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url)
    _customer(backend)
    _price(backend)
    listed = list(backend.list_events())
    assert [e.id for e in listed] == [e["event_id"] for e in paddle_emulator.events()]
    assert {e.kind for e in listed} >= {
        EventKind.CUSTOMER_CREATED,
        EventKind.PRODUCT_CREATED,
        EventKind.PRICE_CREATED,
    }
    later = list(backend.list_events(since=listed[-1].created))
    assert [e.id for e in later] == [listed[-1].id]


@pytest.mark.parametrize(
    ("options", "ids"),
    [
        ({}, {"payments_sync.E014", "payments_sync.W001"}),
        ({"api_key": "pdl_sdbx_x", "webhook_secret": "s"}, set()),
        (
            {"api_key": "pdl_sdbx_x", "environment": "live", "webhook_secret": "s"},
            {"payments_sync.E014"},
        ),
        ({"api_key": "pdl_live_x", "webhook_secret": "s"}, {"payments_sync.E014"}),
        ({"api_key": "pdl_live_x", "environment": "production", "webhook_secret": "s"}, set()),
        ({"api_key": "pdl_live_x", "api_base": "http://emulator", "webhook_secret": "s"}, set()),
        (
            {"api_key": "pdl_sdbx_x", "webhook_secret": "s", "api_version": 2},
            {"payments_sync.E002"},
        ),
    ],
)
def test_system_checks(options: dict[str, Any], ids: set[str]) -> None:
    assert {m.id for m in PaddleBackend.check_options(options)} == ids


def test_checks_run_for_the_configured_backend(settings: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.PAYMENTS_SYNC = {
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {"environment": "sandbox"},
    }
    with pytest.raises(SystemCheckError, match="The Paddle backend has no API key"):
        call_command("check")


def test_a_create_that_timed_out_is_found_on_the_retry(paddle_emulator: Any) -> None:
    backend = paddle_backend(paddle_emulator.url, max_retries=0, timeout=0.3)
    paddle_emulator.inject_fault("POST /customers", "delay", count=1, delay=0.8)
    with pytest.raises(TransientProviderError):
        _customer(backend)
    # Paddle finished the slow request after we gave up: the retry finds that customer
    # (Paddle keeps one per email) instead of making a second one.
    import time

    time.sleep(0.6)
    again = _customer(backend)
    assert [c.id for c in backend.list_customers()] == [again]
