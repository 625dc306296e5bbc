"""The billing API: authentication, one's own data only, validation that stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from django_payments_sync.models import BillingInformation, Customer
from tests.billing.conftest import (
    BILLING_URL,
    FRENCH_ADDRESS,
    PORTAL_URL,
    US_ADDRESS,
    VALIDATE_VAT_URL,
)

pytestmark = pytest.mark.django_db


def test_urls_have_their_names() -> None:
    assert reverse("payments_sync:billing") == BILLING_URL
    assert reverse("payments_sync:billing-validate-vat") == VALIDATE_VAT_URL
    assert reverse("payments_sync:billing-portal") == PORTAL_URL


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", BILLING_URL),
        ("put", BILLING_URL),
        ("patch", BILLING_URL),
        ("post", VALIDATE_VAT_URL),
        ("post", PORTAL_URL),
    ],
)
def test_anonymous_is_refused(anonymous_client: Any, method: str, url: str) -> None:
    response = getattr(anonymous_client, method)(url, US_ADDRESS, format="json")
    assert response.status_code in (401, 403)
    assert not BillingInformation.objects.exists()
    assert not Customer.objects.exists()


def test_get_without_billing_information_is_404_with_a_clear_message(client_a: Any) -> None:
    response = client_a.get(BILLING_URL)
    assert response.status_code == 404
    assert "no billing information yet" in response.json()["detail"]


def test_put_creates_then_replaces(client_a: Any, user: Any) -> None:
    created = client_a.put(BILLING_URL, US_ADDRESS, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["country"] == "US"
    assert body["tax_exemption"] == "exempt"
    assert body["is_from_eu"] is False
    assert body["vat_validation_status"] == "not_required"
    assert body["tax_decision_reason"]
    # Pushing to the provider happens after commit, which this test's transaction never does.
    assert body["sync_status"] == "pending"
    assert body["sync_message"]

    without_region = {k: v for k, v in US_ADDRESS.items() if k != "region"}
    replaced = client_a.put(BILLING_URL, {**without_region, "city": "Shelbyville"}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["city"] == "Shelbyville"
    # PUT replaces: an optional field left out is emptied.
    assert replaced.json()["region"] == ""

    info = BillingInformation.objects.get()
    assert info.customer.owner == user
    assert info.city == "Shelbyville"
    assert client_a.get(BILLING_URL).json()["city"] == "Shelbyville"


def test_put_in_the_sellers_country_charges_vat(client_a: Any) -> None:
    response = client_a.put(
        BILLING_URL,
        {**FRENCH_ADDRESS, "country": "DE", "postal_code": "10115", "city": "Berlin"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["tax_exemption"] == "none"
    assert response.json()["is_from_eu"] is True


def test_eu_customer_without_vat_number_pays_vat(client_a: Any) -> None:
    response = client_a.put(BILLING_URL, FRENCH_ADDRESS, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["tax_exemption"], body["is_from_eu"]) == ("none", True)


def test_country_is_normalized_to_upper_case(client_a: Any) -> None:
    response = client_a.put(BILLING_URL, {**US_ADDRESS, "country": "us"}, format="json")
    assert response.status_code == 201
    assert response.json()["country"] == "US"


def test_patch_changes_only_what_is_sent(client_a: Any) -> None:
    client_a.put(BILLING_URL, US_ADDRESS, format="json")
    response = client_a.patch(BILLING_URL, {"city": "Capital City"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["city"] == "Capital City"
    assert body["region"] == "IL"
    assert body["name"] == US_ADDRESS["name"]


def test_patch_that_moves_the_customer_reruns_the_tax_decision(client_a: Any) -> None:
    client_a.put(BILLING_URL, US_ADDRESS, format="json")
    response = client_a.patch(BILLING_URL, {"country": "AT"}, format="json")
    assert response.status_code == 200
    assert (response.json()["tax_exemption"], response.json()["is_from_eu"]) == ("none", True)


def test_patch_without_billing_information_is_404_and_creates_nothing(client_a: Any) -> None:
    response = client_a.patch(BILLING_URL, {"city": "Paris"}, format="json")
    assert response.status_code == 404
    assert not BillingInformation.objects.exists()


# --- one's own data only ----------------------------------------------------------------------


def test_a_user_never_reads_another_users_billing_information(client_a: Any, client_b: Any) -> None:
    assert client_a.put(BILLING_URL, US_ADDRESS, format="json").status_code == 201
    response = client_b.get(BILLING_URL)
    assert response.status_code == 404
    assert US_ADDRESS["name"] not in response.content.decode()


def test_a_user_never_changes_another_users_billing_information(
    client_a: Any, client_b: Any, user: Any, other_user: Any
) -> None:
    client_a.put(BILLING_URL, US_ADDRESS, format="json")
    a_customer = Customer.objects.get(owner=user)

    # Naming A's customer or billing row in the body changes nothing: ids from clients are ignored.
    hostile = {"customer": a_customer.pk, "id": a_customer.billing_information.pk, "city": "Evil"}
    assert client_b.patch(BILLING_URL, hostile, format="json").status_code == 404
    response = client_b.put(BILLING_URL, {**FRENCH_ADDRESS, **hostile}, format="json")
    assert response.status_code == 201

    a_info = BillingInformation.objects.get(customer__owner=user)
    b_info = BillingInformation.objects.get(customer__owner=other_user)
    assert a_info.city == US_ADDRESS["city"]
    assert a_info.name == US_ADDRESS["name"]
    assert b_info.city == "Evil"
    assert b_info.customer != a_customer
    assert client_a.get(BILLING_URL).json()["city"] == US_ADDRESS["city"]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "Germany"}, "country"),
        ({"country": ""}, "country"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"address_line1": ""}, "address_line1"),
        ({"city": ""}, "city"),
    ],
)
def test_bad_input_gets_a_field_error_and_stores_nothing(
    client_a: Any, change: dict[str, Any], field: str
) -> None:
    response = client_a.put(BILLING_URL, {**US_ADDRESS, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()[field][0]
    assert not BillingInformation.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize("missing", ["name", "email", "address_line1", "city", "country"])
def test_required_fields(client_a: Any, missing: str) -> None:
    data = {k: v for k, v in US_ADDRESS.items() if k != missing}
    response = client_a.put(BILLING_URL, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()
    assert not BillingInformation.objects.exists()


def test_bad_patch_changes_nothing(client_a: Any) -> None:
    client_a.put(BILLING_URL, US_ADDRESS, format="json")
    before = BillingInformation.objects.values().get()
    response = client_a.patch(BILLING_URL, {"city": "Paris", "country": "ZZ"}, format="json")
    assert response.status_code == 400
    assert "country" in response.json()
    assert BillingInformation.objects.values().get() == before


def test_get_costs_three_queries(client_a: Any, django_assert_max_num_queries: Any) -> None:
    """The session, the user, and the billing information with its customer (issue 18)."""
    assert client_a.put(BILLING_URL, US_ADDRESS, format="json").status_code == 201
    with django_assert_max_num_queries(3):
        response = client_a.get(BILLING_URL)
    assert response.status_code == 200
    assert response.json()["city"] == US_ADDRESS["city"]


@pytest.mark.django_db(transaction=True)
def test_patch_costs_eight_queries_with_its_push(django_user_model: Any) -> None:
    """PATCH billing/ with the provider push after commit (issue 18): the session, the user,
    the billing information with its customer under its row lock, its update and the
    customer's pending mark; then the push's read (the link with the customer and its billing
    information), the link's synced state and the customer's."""
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from django_payments_sync.backends import get_backend
    from tests.checkout.conftest import LOCMEM_SETTINGS

    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "VIES": {"ENABLED": False}}):
        get_backend().reset()  # type: ignore[attr-defined]
        client_a = APIClient()
        client_a.force_login(django_user_model.objects.create_user(username="p", password="pw"))
        assert client_a.put(BILLING_URL, US_ADDRESS, format="json").status_code == 201
        with CaptureQueriesContext(connection) as captured:
            response = client_a.patch(BILLING_URL, {"address_line2": "Floor 3"}, format="json")
        assert response.status_code == 200
        pushed = get_backend().calls_to("update_customer")  # type: ignore[attr-defined]
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    queries = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]
    assert len(queries) <= 8, queries
    assert response.json()["address_line2"] == "Floor 3"
    # The push ran, and the answer tells its outcome.
    assert pushed
    assert response.json()["sync_status"] == "synced"
