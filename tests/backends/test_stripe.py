"""The Stripe backend against the Stripe emulator over HTTP: the contract, errors, idempotency."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.stripe import StripeBackend
from django_payments_sync.backends.types import CustomerData, PriceData, ProductData, TaxIdData
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PaymentsSyncImproperlyConfigured,
    PermanentProviderError,
    ProviderAuthenticationError,
    TransientProviderError,
)
from django_payments_sync.testing.contract_lifecycle import LifecycleContract
from django_payments_sync.testing.webhooks import sign_stripe_payload
from tests.backends.helpers import (
    WEBHOOK_SECRET,
    RecordingHTTPClient,
    emulator_backend,
    emulator_options,
)


class TestStripeContract(LifecycleContract):
    @pytest.fixture
    def backend(self, stripe_emulator: Any) -> StripeBackend:
        self.emulator = stripe_emulator
        self.seen = 0
        return emulator_backend(stripe_emulator.url)

    def emitted_webhooks(self, backend: BaseBackend) -> list[tuple[bytes, dict[str, str]]]:
        events = self.emulator.events()
        fresh, self.seen = events[self.seen :], len(events)
        return [sign_stripe_payload(event, WEBHOOK_SECRET) for event in fresh]


def _customer(backend: StripeBackend, key: str = "k-1") -> str:
    return backend.create_customer(
        CustomerData(local_id="1", email="a@example.com"), idempotency_key=key
    ).id


def test_built_from_settings_without_global_state(stripe_emulator: Any, settings: Any) -> None:
    settings.PAYMENTS_SYNC = {"OPTIONS": emulator_options(stripe_emulator.url)}
    before = (stripe.api_key, stripe.api_base)
    backend = get_backend()
    assert isinstance(backend, StripeBackend)
    assert _customer(backend).startswith("cus_")
    assert (stripe.api_key, stripe.api_base) == before


def test_server_errors_are_transient_after_the_sdk_retries(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url, max_network_retries=1)
    stripe_emulator.inject_fault("POST /v1/customers", "500", count=2)
    with pytest.raises(TransientProviderError) as info:
        _customer(backend)
    assert info.value.retryable
    assert info.value.http_status == 500
    assert backend.options["http_client"].log == [("POST", "/v1/customers")] * 2
    assert "temporarily unavailable" in info.value.user_message


def test_a_server_error_retried_by_the_sdk_succeeds_once(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url, max_network_retries=2)
    stripe_emulator.inject_fault("POST /v1/customers", "500", count=1)
    _customer(backend)
    assert len(list(backend.list_customers())) == 1


def test_rate_limit_is_transient(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url, max_network_retries=0)
    stripe_emulator.inject_fault("POST /v1/products", "429", count=1)
    with pytest.raises(TransientProviderError) as info:
        backend.create_product(ProductData(local_id="1", name="Pro"), idempotency_key="p")
    assert info.value.http_status == 429


def test_timeout_is_transient_and_the_retry_creates_no_duplicate(stripe_emulator: Any) -> None:
    backend = emulator_backend(
        stripe_emulator.url, max_network_retries=0, http_client=RecordingHTTPClient(timeout=0.3)
    )
    stripe_emulator.inject_fault("POST /v1/customers", "delay", count=1, delay=0.8)
    with pytest.raises(TransientProviderError):
        _customer(backend, key="same-key")
    # The emulator finished the slow request after we gave up: the customer exists. A retry
    # with the same idempotency key gets that customer back instead of a second one.
    again = _customer(backend, key="same-key")
    listed = [c.id for c in backend.list_customers()]
    assert listed == [again]


def test_bad_request_is_permanent_with_a_safe_message(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url)
    customer_id = _customer(backend)
    with pytest.raises(PermanentProviderError) as info:
        backend.add_tax_id(customer_id, TaxIdData(type="eu_vat", value="123"))
    error = info.value
    assert error.http_status == 400
    assert not error.retryable
    assert "sk_test" not in error.user_message
    assert error.user_message == "The tax ID is not valid."


def test_unknown_object_is_not_found(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url)
    with pytest.raises(ObjectNotFound) as info:
        backend.delete_customer("cus_doesnotexist")
    assert info.value.http_status == 404


def test_wrong_api_key_is_an_authentication_error(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url, api_key="sk_live_not_for_the_emulator")
    with pytest.raises(ProviderAuthenticationError) as info:
        _customer(backend)
    assert info.value.http_status == 401
    assert "not configured correctly" in info.value.user_message
    assert "sk_live" not in info.value.user_message


def test_unreachable_server_is_transient() -> None:
    backend = StripeBackend(
        api_key="sk_test_x", api_base="http://127.0.0.1:9", max_network_retries=0, timeout=1.0
    )
    with pytest.raises(TransientProviderError):
        _customer(backend)


def test_list_reads_in_pages_of_100(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url)
    client = stripe_emulator.client()
    for n in range(150):
        client.v1.products.create({"name": f"P{n}"})
    log = backend.options["http_client"]
    assert len(list(backend.list_products())) == 150
    assert log.log == [("GET", "/v1/products")] * 2


def test_other_bad_requests_get_the_generic_safe_message(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url)
    product_id = backend.create_product(ProductData(local_id="1", name="P"), idempotency_key="p").id
    data = PriceData(
        local_id="1", product_id=product_id, amount=100, currency="eur", interval="fortnight"
    )
    with pytest.raises(PermanentProviderError) as info:
        backend.create_price(data, idempotency_key="bad-interval")
    assert info.value.http_status == 400
    assert info.value.param
    assert "recurring[interval]" in str(info.value)  # the details are for the logs...
    assert "recurring" not in info.value.user_message  # ...not for the user
    assert info.value.user_message == PermanentProviderError.default_user_message


def test_http_client_by_dotted_path_from_settings(stripe_emulator: Any, settings: Any) -> None:
    options = emulator_options(
        stripe_emulator.url, http_client="stripe.RequestsClient", timeout=7.0
    )
    settings.PAYMENTS_SYNC = {"OPTIONS": options}
    backend = get_backend()
    assert isinstance(backend, StripeBackend)
    assert _customer(backend).startswith("cus_")


def test_http_client_that_is_not_one_is_a_configuration_error() -> None:
    with pytest.raises(PaymentsSyncImproperlyConfigured, match="http_client"):
        StripeBackend(api_key="sk_test_x", http_client="collections.OrderedDict")


def test_rate_limit_after_the_sdk_retries_is_transient(stripe_emulator: Any) -> None:
    backend = emulator_backend(stripe_emulator.url, max_network_retries=1)
    stripe_emulator.inject_fault("POST /v1/products", "429", count=2)
    with pytest.raises(TransientProviderError) as info:
        backend.create_product(ProductData(local_id="1", name="Pro"), idempotency_key="p")
    assert info.value.http_status == 429
    # The SDK retried once (honouring Retry-After), with the same idempotency key.
    assert backend.options["http_client"].log == [("POST", "/v1/products")] * 2
    assert list(backend.list_products()) == []


def test_card_errors_keep_stripes_card_holder_message() -> None:
    from django_payments_sync.backends.stripe.params import translate_error
    from django_payments_sync.exceptions import CardError

    error = translate_error(
        stripe.CardError(
            "Your card has insufficient funds.", "card", "card_declined", http_status=402
        )
    )
    assert isinstance(error, CardError)
    assert error.user_message == "Your card has insufficient funds."
    assert (error.code, error.http_status, error.retryable) == ("card_declined", 402, False)
