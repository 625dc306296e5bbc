"""The authorization matrix: for every endpoint, an anonymous client, another user, a member of
another organization and a staff user without permissions neither read nor change what is not
theirs, and cannot tell another customer's id from a missing one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from rest_framework.test import APIClient

from django_payments_sync.adapter import DefaultPaymentsAdapter, get_adapter
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    ExternalCustomer,
    Invoice,
    Order,
    Subscription,
)
from tests.factories import OrderFactory, PricingFactory, SubscriptionFactory, UserFactory
from tests.security.conftest import stored_state
from tests.testapp.models import Organization

pytestmark = pytest.mark.django_db

API = "/api/payment/"
#: What belongs to the victim and must never show in another's answer.
SECRETS_OF_THE_VICTIM = (
    "Victim GmbH",
    "FR40303265045",
    "victim-billing@example.com",
    "cus_",
    "in_victim",
    "VICTIM-0001",
)


class TeamAdapter(DefaultPaymentsAdapter):
    """A host policy: an organization's members pay through its founder's customer."""

    def get_owner_for_user(self, user: Any, *, create: bool = False) -> Any:
        team = Organization.objects.filter(members=user).order_by("pk").first()
        if team is None:
            return user
        return team.members.order_by("pk").first()


@pytest.fixture
def team(locmem: LocmemBackend) -> Iterator[None]:
    """The in-memory provider with the team adapter."""
    from django.conf import settings

    with override_settings(
        PAYMENTS_SYNC={**settings.PAYMENTS_SYNC, "ADAPTER": f"{__name__}.TeamAdapter"}
    ):
        get_adapter.cache_clear()
        yield
    get_adapter.cache_clear()


def logged_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world(team: None) -> dict[str, Any]:
    """The victim (founder of team A, with a teammate), and everyone else."""
    victim = UserFactory(username="victim", email="victim@example.com")
    teammate = UserFactory(username="teammate")
    team_a = Organization.objects.create(name="A")
    team_a.members.add(victim, teammate)
    outsider = UserFactory(username="outsider")
    rival = UserFactory(username="rival")
    Organization.objects.create(name="B").members.add(rival, UserFactory(username="rival-boss"))
    staff = UserFactory(username="staff", is_staff=True)
    customer = Customer.objects.get_or_create(owner=victim, defaults={"email": victim.email})[0]
    Customer.objects.filter(pk=customer.pk).update(name="Victim GmbH")
    BillingInformation.objects.create(
        customer=customer,
        name="Victim GmbH",
        email="victim-billing@example.com",
        address_line1="1 rue de Rivoli",
        city="Paris",
        postal_code="75001",
        country="FR",
        tax_id="FR40303265045",
    )
    ExternalCustomer.objects.create(provider="locmem", external_id="cus_victim", customer=customer)
    pricing = PricingFactory(amount=1500, interval="month", max_quantity=10)
    subscription = SubscriptionFactory(customer=customer, pricing=pricing, status="active")
    order = OrderFactory(customer=customer, pricing=pricing)
    invoice = Invoice.objects.create(
        customer=customer,
        subscription=subscription,
        provider="locmem",
        external_id="in_victim",
        number="VICTIM-0001",
        status="open",
        currency="eur",
        total=1500,
        amount_due=1500,
        amount_remaining=1500,
        hosted_invoice_url="https://invoice.locmem.invalid/in_victim",
    )
    return {
        "invoice": invoice,
        "victim": victim,
        "teammate": teammate,
        "outsider": outsider,
        "rival": rival,
        "staff": staff,
        "subscription": subscription,
        "order": order,
        "pricing": pricing,
    }


def requests_against(world: dict[str, Any], sub: int, order: int) -> list[tuple[str, str, Any]]:
    """Every endpoint with a request that would read or change the victim's data."""
    pricing = world["pricing"].pk
    return [
        ("get", "billing/", None),
        ("patch", "billing/", {"name": "Hijacked"}),
        ("post", "billing/portal/", {"customer": "cus_victim", "return_url": "/back/"}),
        ("get", "orders/", None),
        ("get", "invoices/", None),
        ("get", f"invoices/{world['invoice'].pk}/", None),
        ("post", f"orders/{order}/cancel/", None),
        ("get", "subscriptions/", None),
        ("get", f"subscriptions/{sub}/", None),
        ("patch", f"subscriptions/{sub}/", {"quantity": 5}),
        ("delete", f"subscriptions/{sub}/", None),
        ("get", f"subscriptions/{sub}/preview/?quantity=2", None),
        ("post", f"subscriptions/{sub}/pause/", {"behavior": "void"}),
        ("post", f"subscriptions/{sub}/resume/", None),
        ("post", "subscriptions/", {"pricing": pricing, "customer": "cus_victim"}),
        ("post", "checkout/", {"pricing": pricing, "customer": "cus_victim"}),
        ("post", "billing/validate-vat/", {"vat_number": "DE812345673"}),
        ("put", "billing/", {"name": "Mine", "country": "US", "customer": "cus_victim"}),
        ("get", "entitlements/", None),
        ("get", "usage/", None),
        ("post", f"subscriptions/{sub}/discount/", {"promotion_code": "VICTIM"}),
        ("post", "checkout/", {"pricing": pricing, "promotion_code": "VICTIM"}),
    ]


def call(client: APIClient, method: str, path: str, data: Any) -> Any:
    return getattr(client, method)(API + path, data, format="json")


def victims_rows(customer: Customer) -> dict[str, Any]:
    """Every stored row of the victim's customer, its billing data, subscriptions, orders."""
    state = stored_state()
    key = {
        "django_payments_sync.Customer": "id",
        "django_payments_sync.BillingInformation": "customer_id",
        "django_payments_sync.Subscription": "customer_id",
        "django_payments_sync.Order": "customer_id",
        "django_payments_sync.ExternalCustomer": "customer_id",
        "django_payments_sync.Invoice": "customer_id",
    }
    return {
        label: [row for row in state[label] if row[field] == customer.pk]
        for label, field in key.items()
    }


def assert_nothing_of_the_victim(response: Any) -> None:
    text = response.content.decode()
    for secret in SECRETS_OF_THE_VICTIM:
        assert secret not in text, (response.request["PATH_INFO"], secret)


@pytest.mark.parametrize("who", ["anonymous", "outsider", "rival", "staff"])
def test_nobody_else_reads_or_changes_the_victims_data(
    world: dict[str, Any], who: str, locmem: LocmemBackend
) -> None:
    client = APIClient() if who == "anonymous" else logged_in(world[who])
    victim_customer = Customer.objects.get(owner=world["victim"])
    before = victims_rows(victim_customer)

    for method, path, data in requests_against(world, world["subscription"].pk, world["order"].pk):
        response = call(client, method, path, data)
        assert response.status_code < 500, (method, path, response.content)
        if who == "anonymous":
            assert response.status_code == 403, (method, path)
        assert_nothing_of_the_victim(response)

    assert victims_rows(victim_customer) == before
    # No provider call ever concerned the victim's customer.
    assert not [c for c in locmem.calls if "cus_victim" in json.dumps(c.args, default=str)]


def test_a_teammate_acts_for_the_teams_customer(world: dict[str, Any]) -> None:
    """The positive control: the same requests by a member of the victim's team do reach it."""
    teammate = logged_in(world["teammate"])
    assert teammate.get(API + "billing/").json()["name"] == "Victim GmbH"
    sub = world["subscription"].pk
    assert teammate.get(f"{API}subscriptions/{sub}/").status_code == 200
    # The victim's subscription has no provider link in this world: the teammate reaches it
    # and is told so, where everyone else is told it does not exist.
    preview = teammate.get(f"{API}subscriptions/{sub}/preview/?quantity=2")
    assert (preview.status_code, preview.json()["code"]) == (409, "subscription_not_synced")
    assert [o["id"] for o in teammate.get(API + "orders/").json()] == [world["order"].pk]
    assert [i["id"] for i in teammate.get(API + "invoices/").json()] == [world["invoice"].pk]
    assert teammate.get(f"{API}invoices/{world['invoice'].pk}/").status_code == 200
    plans = teammate.get(API + "entitlements/").json()["plans"]
    assert plans == [world["pricing"].product_id]


@pytest.mark.parametrize("who", ["outsider", "rival", "staff"])
def test_another_customers_ids_answer_like_missing_ones(world: dict[str, Any], who: str) -> None:
    client = logged_in(world[who])
    # Each has a customer of their own, with a subscription and an order of their own.
    own = Customer.objects.get_or_create(
        owner=get_adapter().get_owner_for_user(world[who]),
        defaults={"email": f"{who}@example.com"},
    )[0]
    own_sub = SubscriptionFactory(customer=own, pricing=world["pricing"], status="active")
    own_order = OrderFactory(customer=own, pricing=world["pricing"])
    Invoice.objects.create(
        customer=own, provider="locmem", external_id=f"in_{who}", status="paid", currency="eur"
    )
    missing = (
        max(
            Subscription.objects.latest("pk").pk,
            Order.objects.latest("pk").pk,
            Invoice.objects.latest("pk").pk,
        )
        + 100
    )
    for method, template, data in [
        ("get", "invoices/{}/", None),
        ("get", "subscriptions/{}/preview/?quantity=2", None),
        ("post", "subscriptions/{}/pause/", {"behavior": "void"}),
        ("post", "subscriptions/{}/resume/", None),
        ("get", "subscriptions/{}/", None),
        ("patch", "subscriptions/{}/", {"quantity": 2}),
        ("delete", "subscriptions/{}/", None),
        ("post", "orders/{}/cancel/", None),
        ("post", "subscriptions/{}/discount/", {"promotion_code": "VICTIM"}),
    ]:
        target = {"orders": world["order"].pk, "invoices": world["invoice"].pk}.get(
            template.split("/", 1)[0], world["subscription"].pk
        )
        theirs = call(client, method, template.format(target), data)
        nothing = call(client, method, template.format(missing), data)
        assert (theirs.status_code, theirs.json()) == (nothing.status_code, nothing.json())
        assert theirs.status_code == 404
    # And their own ids work (the 404 above is about ownership, not the route).
    assert call(client, "get", f"subscriptions/{own_sub.pk}/", None).status_code == 200
    assert call(client, "post", f"orders/{own_order.pk}/cancel/", None).status_code == 200


ADMIN_PAGES = [
    "/admin/django_payments_sync/customer/",
    "/admin/django_payments_sync/customer/{customer}/change/",
    "/admin/django_payments_sync/billinginformation/",
    "/admin/django_payments_sync/subscription/{subscription}/change/",
    "/admin/django_payments_sync/webhookevent/",
    "/admin/django_payments_sync/order/",
]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "staff"])
def test_the_admin_shows_nothing_without_permission(world: dict[str, Any], who: str) -> None:
    client = APIClient() if who == "anonymous" else logged_in(world[who])
    customer = Customer.objects.get(owner=world["victim"]).pk
    for page in ADMIN_PAGES:
        url = page.format(customer=customer, subscription=world["subscription"].pk)
        response = client.get(url)
        if who == "staff":
            assert response.status_code == 403, url
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/")
        assert_nothing_of_the_victim(response)
    index = client.get("/admin/")
    assert "django_payments_sync" not in index.content.decode()


def test_a_view_permission_shows_the_list_but_changes_nothing(world: dict[str, Any]) -> None:
    staff = world["staff"]
    staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client = logged_in(staff)
    customer = Customer.objects.get(owner=world["victim"])
    assert client.get("/admin/django_payments_sync/customer/").status_code == 200
    response = client.post(
        f"/admin/django_payments_sync/customer/{customer.pk}/change/",
        {"name": "Hijacked", "email": "x@example.com"},
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "Victim GmbH"
