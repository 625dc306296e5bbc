"""The design's names: every service, the facade's entry points and the two URL modules exist
under them, the facade hands them out, and docs/interactor.md says where each one is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from django_payments_sync import billing_router, stripe_router
from django_payments_sync.interactor import PaymentInteractor, payments
from django_payments_sync.interactor.mailer import MailerService
from django_payments_sync.interactor.orders import OrderService, OrdersService
from django_payments_sync.interactor.plans import PlanService
from django_payments_sync.interactor.services import (
    BillingService,
    CustomerService,
    OrganizationService,
    PaymentService,
    ProductService,
)
from django_payments_sync.interactor.subscriptions import SubscriptionService
from django_payments_sync.sync.snapshots import ProductToSynchronizePayments
from tests.factories import CustomerFactory, UserFactory

DOCS = Path(__file__).resolve().parents[1] / "docs" / "interactor.md"

SERVICES = {
    "billing": BillingService,
    "customers": CustomerService,
    "organizations": OrganizationService,
    "orders": OrderService,
    "subscriptions": SubscriptionService,
    "plans": PlanService,
    "products": ProductService,
    "provider": PaymentService,
    "mailer": MailerService,
}


@pytest.mark.parametrize(("attribute", "cls"), sorted(SERVICES.items()))
def test_the_facade_hands_out_each_named_service(attribute: str, cls: type) -> None:
    assert isinstance(getattr(payments, attribute), cls)


def test_every_name_of_the_design_is_documented_where_it_is() -> None:
    text = DOCS.read_text()
    table = text[text.index("### The design's names") :]
    for name in (
        *(cls.__name__ for cls in SERVICES.values()),
        "AuthService",
        "UserInteractor",
        "PaymentInteractor",
        "handle_webhook_from_stripe",
        "ProductToSynchronizePayments",
        "billing_router.py",
        "stripe_router.py",
    ):
        assert re.search(rf"^\| `{re.escape(name)}", table, re.MULTILINE), name
    assert ProductToSynchronizePayments.__name__ in table
    assert OrdersService is OrderService  # the earlier name still imports


def test_the_design_s_entry_points_are_the_facade_s() -> None:
    assert PaymentInteractor.handle_webhook_from_stripe
    assert PaymentInteractor._process_tax is PaymentInteractor.process_tax
    assert (
        PaymentInteractor._get_or_create_custom_user is PaymentInteractor.get_or_create_custom_user
    )


def test_the_two_route_modules_make_the_urlconf() -> None:
    names = {p.name for p in [*billing_router.urlpatterns, *stripe_router.urlpatterns]}
    assert {"stripe-webhook", "billing", "plans", "checkout", "subscriptions", "schema"} <= names
    assert reverse("payments_sync:stripe-webhook").endswith("/stripe/webhook/")


@pytest.mark.django_db
def test_the_customer_and_organization_services_follow_the_adapter() -> None:
    user = UserFactory(email="named@example.com")
    customer = payments.customers.get_or_create_customer(user)
    assert customer.owner == user
    assert payments.customers.get_or_create_customer(user) == customer  # idempotent
    assert payments.organizations.owner_for_user(user) == user
    assert payments.organizations.owner_for_email("nobody@example.com") is None


@pytest.mark.django_db
def test_the_billing_service_saves_and_decides_tax(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "AUTO_SYNC": False, "SELLER_COUNTRY": "DE"}
    customer = CustomerFactory()
    billing = payments.billing.create_user_billing_info(
        customer,
        {
            "name": "Acme",
            "email": "acme@example.com",
            "address_line1": "1 Main Street",
            "city": "New York",
            "country": "us",
        },
    )
    assert (billing.country, billing.tax_exemption) == ("US", "exempt")
    assert payments.billing.get_billing_info(customer) == billing
