"""What host code hands the billing interactor directly (no API in between) is checked and
normalized the same way the API's is: return URLs, countries, VAT numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import RequestFactory, override_settings

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.billing import (
    create_user_billing_info,
    get_customer_management_portal_link,
    update_billing_info,
)
from django_payments_sync.interactor.customers import get_or_create_customer
from django_payments_sync.models import BillingInformation, Customer
from django_payments_sync.vies.numbers import InvalidVatNumber
from tests.checkout.conftest import LOCMEM_SETTINGS

pytestmark = pytest.mark.django_db


@pytest.fixture
def locmem() -> Iterator[LocmemBackend]:
    # VIES off: these tests are about what is stored, not about VIES's answer.
    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "VIES": {"ENABLED": False}}):
        backend = get_backend()
        assert isinstance(backend, LocmemBackend)
        backend.reset()
        yield backend


@pytest.fixture
def customer(locmem: LocmemBackend, user: Any) -> Customer:
    return get_or_create_customer(user)


def portal_return_urls(locmem: LocmemBackend) -> list[str]:
    return [call.args[1] for call in locmem.calls_to("create_portal_session")]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "https://evil.example@testserver.evil/",
    ],
)
def test_the_portal_link_refuses_a_return_url_off_the_site(
    locmem: LocmemBackend, customer: Customer, url: str
) -> None:
    with pytest.raises(PolicyViolation) as refused:
        get_customer_management_portal_link(customer, url)
    assert refused.value.code == "unsafe_redirect"
    with pytest.raises(PolicyViolation):
        payments.get_customer_management_portal_link(customer, url)
    assert portal_return_urls(locmem) == []


def test_the_portal_link_accepts_an_address_on_an_allowed_host(
    locmem: LocmemBackend, customer: Customer
) -> None:
    assert get_customer_management_portal_link(customer, "https://testserver/account/")
    assert portal_return_urls(locmem) == ["https://testserver/account/"]


def test_a_return_path_is_made_absolute_against_the_request(
    locmem: LocmemBackend, customer: Customer
) -> None:
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    get_customer_management_portal_link(customer, "/account/", request=request)
    assert portal_return_urls(locmem) == ["http://localhost/account/"]


def test_a_return_path_without_a_request_is_refused(
    locmem: LocmemBackend, customer: Customer
) -> None:
    with pytest.raises(PolicyViolation, match="absolute"):
        get_customer_management_portal_link(customer, "/account/")
    assert portal_return_urls(locmem) == []


def test_billing_information_from_host_code_is_stored_normalized(
    locmem: LocmemBackend, customer: Customer
) -> None:
    create_user_billing_info(
        customer, {"name": "Acme BV", "country": "nl", "tax_id": "nl 123456782b01"}
    )
    stored = BillingInformation.objects.get(customer=customer)
    assert (stored.country, stored.tax_id) == ("NL", "NL123456782B01")

    update_billing_info(customer, {"tax_id": "123.456.782.b01"})
    stored.refresh_from_db()
    assert stored.tax_id == "NL123456782B01"

    update_billing_info(customer, {"country": " fr ", "tax_id": "fr 40 303 265 045"})
    stored.refresh_from_db()
    assert (stored.country, stored.tax_id) == ("FR", "FR40303265045")


def test_a_vat_number_that_does_not_check_is_refused_and_nothing_is_stored(
    locmem: LocmemBackend, customer: Customer
) -> None:
    with pytest.raises(InvalidVatNumber):
        create_user_billing_info(customer, {"name": "Acme", "country": "de", "tax_id": "de 111"})
    assert not BillingInformation.objects.filter(customer=customer).exists()
