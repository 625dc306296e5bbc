"""Customers: created once per owner from the adapter's hooks, resolved from the request only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory, override_settings

from django_payments_sync import signals
from django_payments_sync.adapter import DefaultPaymentsAdapter
from django_payments_sync.interactor.customers import (
    customer_for_request,
    existing_customer_for_request,
    get_or_create_customer,
)
from django_payments_sync.models import Customer
from tests.billing.conftest import BILLING_URL, US_ADDRESS, payments_settings_with

pytestmark = pytest.mark.django_db


class BillingDeskAdapter(DefaultPaymentsAdapter):
    """A host adapter that names customers its own way and bills everyone to one owner."""

    billed_owner: Any = None

    def get_owner_email(self, owner: Any) -> str:
        return f"accounts+{owner.pk}@host.example"

    def get_owner_name(self, owner: Any) -> str:
        return f"Account of {owner.get_username()}"

    def get_customer_owner(self, request: Any) -> Any:
        return type(self).billed_owner


def test_get_or_create_customer_takes_email_and_name_from_the_owner(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user.first_name, user.last_name = "Alice", "Liddell"
    user.save()
    received: list[dict[str, Any]] = []

    def on_created(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.customer_created.connect(on_created)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            customer = get_or_create_customer(user)
    finally:
        signals.customer_created.disconnect(on_created)

    assert (customer.email, customer.name) == ("alice@example.com", "Alice Liddell")
    assert customer.owner == user
    assert [r["customer"] for r in received] == [customer]
    assert received[0]["created_from"] == "local"


def test_get_or_create_customer_is_idempotent(user: Any) -> None:
    first = get_or_create_customer(user)
    second = get_or_create_customer(user)
    assert first.pk == second.pk
    assert Customer.objects.count() == 1


def test_adapter_hooks_name_new_customers(user: Any) -> None:
    with override_settings(
        PAYMENTS_SYNC=payments_settings_with(
            ADAPTER="tests.billing.test_customers.BillingDeskAdapter"
        )
    ):
        customer = get_or_create_customer(user)
    assert customer.email == f"accounts+{user.pk}@host.example"
    assert customer.name == "Account of alice"


def test_the_customer_comes_from_the_adapter_never_from_the_client(
    user: Any, other_user: Any, client_a: Any
) -> None:
    # The adapter says every request of this host is billed to other_user: the API follows
    # it, whatever the logged-in user or the body says.
    BillingDeskAdapter.billed_owner = other_user
    try:
        with override_settings(
            PAYMENTS_SYNC=payments_settings_with(
                ADAPTER="tests.billing.test_customers.BillingDeskAdapter"
            )
        ):
            response = client_a.put(
                BILLING_URL, {**US_ADDRESS, "owner": user.pk, "customer": 1}, format="json"
            )
    finally:
        BillingDeskAdapter.billed_owner = None
    assert response.status_code == 201
    assert Customer.objects.get().owner == other_user


def test_customer_for_request_creates_and_existing_does_not(user: Any) -> None:
    request = RequestFactory().get("/")
    request.user = user
    assert existing_customer_for_request(request) is None
    customer = customer_for_request(request)
    assert existing_customer_for_request(request) == customer
    assert customer.owner == user


def test_an_anonymous_request_has_no_customer() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        customer_for_request(request)
    with pytest.raises(PermissionDenied):
        existing_customer_for_request(request)
    assert not Customer.objects.exists()
