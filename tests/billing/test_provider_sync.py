"""Billing information reaching the provider: the real Stripe SDK over HTTP to the emulator."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from django_payments_sync.interactor.billing import push_customer, recheck_pending_vat
from django_payments_sync.models import BillingInformation, Customer, ExternalCustomer
from tests.billing.conftest import BILLING_URL, FRENCH_ADDRESS, PORTAL_URL, payments_settings_with

pytestmark = pytest.mark.django_db(transaction=True)

FR_VALID = "FR40303265045"
FR_OTHER_VALID = "FR85812345601"


@pytest.fixture(autouse=True)
def provider(vies_settings: Any, emulator_settings: Any) -> Any:
    """VIES at the local responder and Stripe at the emulator, in that order (both override
    ``PAYMENTS_SYNC``; the second one keeps the first one's VIES address).

    Autouse, so it is in place before the users are created: creating a user pushes its
    customer after commit, which must reach the emulator, never the real Stripe.
    """
    return emulator_settings


def provider_customer(emulator: Any, owner: Any) -> Any:
    external_id = ExternalCustomer.objects.get(customer__owner=owner).external_id
    return emulator.client().v1.customers.retrieve(external_id)


def provider_tax_ids(emulator: Any, owner: Any) -> list[tuple[str, str]]:
    external_id = ExternalCustomer.objects.get(customer__owner=owner).external_id
    listed = emulator.client().v1.customers.tax_ids.list(external_id)
    return sorted((t.type, t.value) for t in listed.data)


def test_a_save_reaches_the_provider_with_address_tax_status_and_tax_ids(
    client_a: Any, user: Any, provider: Any
) -> None:
    response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["sync_status"] == "synced"
    assert response.json()["sync_message"] == ""

    remote = provider_customer(provider, user)
    assert remote.name == FRENCH_ADDRESS["name"]
    assert remote.email == FRENCH_ADDRESS["email"]
    assert remote.address.line1 == FRENCH_ADDRESS["address_line1"]
    assert remote.address.city == "Paris"
    assert remote.address.postal_code == "75001"
    assert remote.address.country == "FR"
    assert remote.tax_exempt == "reverse"
    assert provider_tax_ids(provider, user) == [("eu_vat", FR_VALID)]


def test_a_new_number_replaces_the_old_one_at_the_provider(
    client_a: Any, user: Any, provider: Any
) -> None:
    client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    response = client_a.patch(BILLING_URL, {"tax_id": FR_OTHER_VALID}, format="json")
    assert response.json()["sync_status"] == "synced"
    assert provider_tax_ids(provider, user) == [("eu_vat", FR_OTHER_VALID)]

    response = client_a.patch(BILLING_URL, {"tax_id": ""}, format="json")
    assert response.json()["sync_status"] == "synced"
    assert provider_tax_ids(provider, user) == []
    assert provider_customer(provider, user).tax_exempt == "none"


def test_reverse_charge_reaches_the_provider_after_a_recheck_turns_valid(
    client_a: Any, user: Any, provider: Any, vies_responder: Any
) -> None:
    with vies_responder.forced("SERVICE_UNAVAILABLE"):
        response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    assert response.json()["vat_validation_status"] == "unavailable"
    assert response.json()["sync_status"] == "synced"
    assert provider_customer(provider, user).tax_exempt == "none"
    assert provider_tax_ids(provider, user) == [("eu_vat", FR_VALID)]

    info = BillingInformation.objects.get()
    assert info.vat_next_check_at is not None
    report = recheck_pending_vat(now=info.vat_next_check_at + dt.timedelta(seconds=1))
    assert report.changed == [info.pk]

    assert provider_customer(provider, user).tax_exempt == "reverse"
    assert Customer.objects.get(owner=user).sync_status == "synced"


def test_a_provider_failure_keeps_the_data_saved_and_marked_pending(
    client_a: Any, user: Any, provider: Any
) -> None:
    provider.inject_fault("POST /v1/customers*", "500")
    response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["sync_status"] == "pending"
    assert "retried" in body["sync_message"]
    assert body["tax_exemption"] == "reverse"

    info = BillingInformation.objects.get()
    assert (info.city, info.tax_id, info.tax_exemption) == ("Paris", FR_VALID, "reverse")
    customer = Customer.objects.get(owner=user)
    assert customer.sync_status == "pending"
    assert customer.sync_error
    assert client_a.get(BILLING_URL).json()["sync_status"] == "pending"

    # The provider is back: the retry pushes what was saved.
    provider.clear_faults()
    assert push_customer(customer.pk) is True
    assert Customer.objects.get(owner=user).sync_status == "synced"
    assert provider_customer(provider, user).tax_exempt == "reverse"
    assert provider_tax_ids(provider, user) == [("eu_vat", FR_VALID)]


# --- the customer portal ----------------------------------------------------------------------


def portal_sessions(emulator: Any) -> list[dict[str, Any]]:
    return list(emulator.state()["objects"].get("billing_portal.session", []))


def test_each_user_gets_the_portal_of_their_own_customer(
    client_a: Any, client_b: Any, user: Any, other_user: Any, provider: Any
) -> None:
    client_a.put(BILLING_URL, FRENCH_ADDRESS, format="json")
    a_id = ExternalCustomer.objects.get(customer__owner=user).external_id

    # B has no provider customer yet: asking for the portal creates B's, never uses A's.
    response = client_b.post(PORTAL_URL, {"customer": a_id}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["url"].startswith("http")
    b_id = ExternalCustomer.objects.get(customer__owner=other_user).external_id
    assert b_id != a_id

    response = client_a.post(PORTAL_URL, {}, format="json")
    assert response.status_code == 200
    sessions = portal_sessions(provider)
    assert [s["customer"] for s in sessions] == [b_id, a_id]


def test_portal_returns_to_the_configured_url(client_a: Any, provider: Any) -> None:
    with override_settings(
        PAYMENTS_SYNC=payments_settings_with(PORTAL_RETURN_URL="https://testserver/account/")
    ):
        assert client_a.post(PORTAL_URL, {}, format="json").status_code == 200
    assert portal_sessions(provider)[-1]["return_url"] == "https://testserver/account/"


def test_portal_accepts_a_return_path_or_an_allowed_host(client_a: Any, provider: Any) -> None:
    assert client_a.post(PORTAL_URL, {"return_url": "/billing/"}).status_code == 200
    assert portal_sessions(provider)[-1]["return_url"] == "http://testserver/billing/"
    response = client_a.post(PORTAL_URL, {"return_url": "http://localhost/done"})
    assert response.status_code == 200
    assert urlsplit(portal_sessions(provider)[-1]["return_url"]).hostname == "localhost"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "javascript:alert(1)",
        "https://testserver.evil.example/",
    ],
)
def test_portal_refuses_return_urls_elsewhere(client_a: Any, provider: Any, url: str) -> None:
    response = client_a.post(PORTAL_URL, {"return_url": url}, format="json")
    assert response.status_code == 400
    assert "return_url" in response.json()
    assert portal_sessions(provider) == []


def test_portal_says_when_the_provider_is_down(client_a: Any, provider: Any) -> None:
    provider.inject_fault("POST /v1/billing_portal/sessions", "500")
    response = client_a.post(PORTAL_URL, {}, format="json")
    assert response.status_code == 503
    assert response.json()["detail"]
