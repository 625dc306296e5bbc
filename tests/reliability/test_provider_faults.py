"""Provider faults (500, 429 with Retry-After, replies slower than the client's timeout) during
the catalog push, billing saves, checkout and subscription changes: every failed call answers a
clear error, and once the faults stop and the retries run, the provider holds exactly one object
per local object."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.backends.types import METADATA_ID_KEY
from django_payments_sync.interactor.customers import get_or_create_customer
from django_payments_sync.interactor.orders import METADATA_ATTEMPT_KEY
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    Order,
    OrderStatus,
    PaymentAttempt,
    Pricing,
    Product,
    Subscription,
)
from django_payments_sync.sync.customers import sync_customer
from django_payments_sync.sync.rows import SyncAction
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from tests.backends.helpers import WEBHOOK_SECRET
from tests.billing.conftest import BILLING_URL, FRENCH_ADDRESS, PORTAL_URL, US_ADDRESS
from tests.checkout.conftest import CHECKOUT_URL, SUBSCRIPTIONS_URL, subscription_url
from tests.factories import PricingFactory, ProductFactory, UserFactory
from tests.reliability.conftest import PAST_TIMEOUT, payments_sync, remote
from tests.reliability.conftest import deliver as deliver_events

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FAULTS = ("500", "429", "delay")


def inject(emulator: StripeEmulator, route: str, kind: str, **kwargs: Any) -> None:
    emulator.inject_fault(route, kind, delay=PAST_TIMEOUT, **kwargs)


def by_local_id(objects: list[dict[str, Any]]) -> Counter[str]:
    """How many provider objects carry each local id in their metadata."""
    return Counter(str((o.get("metadata") or {}).get(METADATA_ID_KEY)) for o in objects)


def deliver(emulator: StripeEmulator) -> None:
    """The emulator's new events, delivered; each must be answered 200."""
    for response in deliver_events(emulator, WEBHOOK_SECRET):
        assert response.status_code == 200, response.content


def settled(emulator: StripeEmulator, kind: str, expected: int) -> list[dict[str, Any]]:
    """The provider's objects of ``kind`` once requests still sleeping in a delay are done."""
    deadline = time.monotonic() + 2 * PAST_TIMEOUT + 1
    while len(objects := remote(emulator, kind)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return objects


def assert_clear_error(response: Any) -> None:
    """A refusal the client can show: JSON with a message, never a traceback or a bare 500."""
    assert response.status_code in (502, 503), (response.status_code, response.content)
    body = response.json()
    assert body["user_message"]
    assert body["retryable"] is (response.status_code == 503)
    text = response.content.decode()
    assert "Traceback" not in text
    assert "sk_test" not in text


def test_catalog_push_through_faults_converges_with_one_object_each(
    faulty_stripe: StripeEmulator,
) -> None:
    em = faulty_stripe
    products = [ProductFactory(name=f"Plan {i}", active=True) for i in range(6)]
    for i, product in enumerate(products):
        PricingFactory(product=product, amount=1000 + i, interval="month")
        PricingFactory(product=product, amount=9000 + i, interval="")
    # The first creations reach the provider but answer after the client gave up; then a
    # seeded share of every write fails with a 500 or a 429.
    inject(em, "POST /v1/products", "delay", count=2)
    inject(em, "POST /v1/prices", "delay", count=2)
    inject(em, "POST /v1/products*", "500", share=0.3, seed=1)
    inject(em, "POST /v1/prices*", "429", share=0.3, seed=2)

    status, _out, err = payments_sync("push", "--only", "products")

    assert status == 1
    assert "Traceback" not in err
    failed_lines = [line for line in err.splitlines() if line.strip()]
    assert failed_lines, "the faults failed no row"
    assert len(remote(em, "product")) >= 2  # the timed-out creations did happen

    em.clear_faults()
    for _ in range(3):
        status, _out, err = payments_sync("push", "--only", "products")
        if status == 0:
            break
    assert (status, err) == (0, "")

    remote_products = remote(em, "product")
    remote_prices = remote(em, "price")
    assert by_local_id(remote_products) == Counter(str(p.pk) for p in products)
    assert by_local_id(remote_prices) == Counter(str(p.pk) for p in Pricing.objects.all())
    assert ExternalProduct.objects.count() == len(products) == len(remote_products)
    assert ExternalPricing.objects.count() == Pricing.objects.count() == len(remote_prices)
    linked = set(ExternalPricing.objects.values_list("external_id", flat=True))
    assert linked == {p["id"] for p in remote_prices}
    assert all(p["active"] for p in remote_products + remote_prices)
    assert payments_sync("diff")[0] == 0
    assert Product.objects.filter(sync_status="synced").count() == len(products)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", FAULTS)
def test_billing_saves_through_faults_are_kept_and_pushed_once(
    faulty_stripe: StripeEmulator, fault: str
) -> None:
    em = faulty_stripe
    inject(em, "POST /v1/customers*", fault)
    clients = []
    for i in range(3):
        # Committing a user creates its customer, whose push (after commit) meets the fault.
        client = APIClient()
        client.force_login(UserFactory(username=f"payer{i}", email=f"payer{i}@example.com"))
        clients.append(client)

    for i, client in enumerate(clients):
        address = {**(FRENCH_ADDRESS if i % 2 else US_ADDRESS), "name": f"Payer {i}"}
        response = client.put(BILLING_URL, address, format="json")
        # The save itself never fails: the data is kept and the push is retried.
        assert response.status_code == 201, response.content
        assert response.json()["sync_status"] == "pending"
        assert "retried" in response.json()["sync_message"]
    # A change while the provider is still down is kept too.
    response = clients[0].patch(BILLING_URL, {"city": "Lyon"}, format="json")
    assert response.status_code == 200
    assert response.json()["city"] == "Lyon"
    [active] = em.faults.active()
    assert active["hits"] >= 7  # every push met the fault: 3 at sign-up, 3 saves, 1 change

    em.clear_faults()
    time.sleep(PAST_TIMEOUT)  # the delayed requests are done at the provider
    status, _out, err = payments_sync("push", "--only", "customers")
    assert (status, err) == (0, "")

    customers = list(Customer.objects.select_related("billing_information"))
    remote_customers = remote(em, "customer")
    assert by_local_id(remote_customers) == Counter(str(c.pk) for c in customers)
    assert {c.sync_status for c in customers} == {"synced"}
    by_id = {c["id"]: c for c in remote_customers}
    for link in ExternalCustomer.objects.select_related("customer__billing_information"):
        info = link.customer.billing_information
        theirs = by_id[link.external_id]
        assert (theirs["name"], theirs["address"]["city"]) == (info.name, info.city)
    assert payments_sync("diff")[0] == 0


@pytest.fixture
def shopper(faulty_stripe: StripeEmulator) -> APIClient:
    client = APIClient()
    client.force_login(UserFactory(username="shopper", email="shopper@example.com"))
    return client


@pytest.fixture
def monthly(faulty_stripe: StripeEmulator) -> Pricing:
    product = ProductFactory(name="Team")
    return PricingFactory(product=product, amount=1500, interval="month", max_quantity=10)


@pytest.mark.parametrize("fault", FAULTS)
def test_checkout_through_faults_answers_clear_errors_and_one_session_per_attempt(
    faulty_stripe: StripeEmulator, shopper: APIClient, monthly: Pricing, fault: str
) -> None:
    em = faulty_stripe
    inject(em, "POST /v1/checkout/sessions", fault, count=2)

    for _ in range(2):
        assert_clear_error(shopper.post(CHECKOUT_URL, {"pricing": monthly.pk}))
    response = shopper.post(CHECKOUT_URL, {"pricing": monthly.pk})
    assert response.status_code == 201, response.content

    orders = list(Order.objects.order_by("pk"))
    assert [o.status for o in orders] == [OrderStatus.FAILED] * 2 + [OrderStatus.PENDING]
    assert PaymentAttempt.objects.filter(status="failed").count() == 2
    # One provider customer and price however many tries; one session per attempt at most
    # (a timed-out attempt's session exists at the provider, unpaid, and expires there).
    assert len(remote(em, "customer")) == Customer.objects.count() == 1
    assert len(remote(em, "price")) == 1
    sessions = settled(em, "checkout.session", 3 if fault == "delay" else 1)
    attempts = Counter(s["metadata"][METADATA_ATTEMPT_KEY] for s in sessions)
    assert set(attempts.values()) == {1}
    assert len(sessions) == (3 if fault == "delay" else 1)


@pytest.mark.parametrize("fault", FAULTS)
def test_subscription_changes_through_faults_end_in_the_providers_state(
    faulty_stripe: StripeEmulator, shopper: APIClient, monthly: Pricing, fault: str
) -> None:
    em = faulty_stripe
    session = shopper.post(CHECKOUT_URL, {"pricing": monthly.pk}).json()
    em.pay_checkout_session(session["id"])
    deliver(em)
    subscription = Subscription.objects.get()
    assert subscription.status == "active"
    url = subscription_url(subscription.pk)
    inject(em, "POST /v1/subscriptions/*", fault, count=1)

    assert_clear_error(shopper.patch(url, {"quantity": 3}, format="json"))
    subscription.refresh_from_db()
    assert subscription.quantity == 1  # the local row shows what is known, not the wish

    response = shopper.patch(url, {"quantity": 3}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quantity"] == 3
    deliver(em)
    subscription.refresh_from_db()
    assert subscription.quantity == 3
    [theirs] = remote(em, "subscription")
    assert theirs["items"]["data"][0]["quantity"] == 3
    assert len(theirs["items"]["data"]) == 1

    inject(em, "DELETE /v1/subscriptions/*", fault, count=1)
    assert_clear_error(shopper.delete(f"{url}?at_period_end=false"))
    response = shopper.delete(f"{url}?at_period_end=false")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"
    assert [s["status"] for s in remote(em, "subscription")] == ["canceled"]
    deliver(em)
    assert shopper.get(SUBSCRIPTIONS_URL).json()[0]["status"] == "canceled"
    assert ExternalSubscription.objects.get().external_id == theirs["id"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_direct_subscription_through_faults_is_created_once(
    faulty_stripe: StripeEmulator, shopper: APIClient, monthly: Pricing, fault: str
) -> None:
    em = faulty_stripe
    # A customer with a card on file, linked at the provider.
    shopper.put(BILLING_URL, FRENCH_ADDRESS, format="json")
    assert payments_sync("push")[0] == 0
    customer_id = ExternalCustomer.objects.get().external_id
    em.client().v1.customers.update(
        customer_id, {"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    inject(em, "POST /v1/subscriptions", fault, count=1)

    assert_clear_error(shopper.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk}))
    em.clear_faults()
    time.sleep(PAST_TIMEOUT)  # the customer tries again later: a delayed request is done
    response = shopper.post(SUBSCRIPTIONS_URL, {"pricing": monthly.pk})

    deliver(em)
    live_remote = [s for s in remote(em, "subscription") if s["status"] != "canceled"]
    live_local = [s for s in Subscription.objects.all() if s.is_live]
    assert len(live_remote) == 1, [(s["id"], s["status"]) for s in remote(em, "subscription")]
    assert response.status_code == 201, response.content
    assert [s.pk for s in live_local] == [response.json()["id"]]
    # The retry was the same create: one local row, sent with the same idempotency key.
    assert Subscription.objects.count() == 1
    assert live_remote[0]["metadata"][METADATA_ID_KEY] == str(response.json()["id"])


@pytest.mark.parametrize("fault", FAULTS)
def test_the_portal_through_faults_answers_a_clear_error(
    faulty_stripe: StripeEmulator, shopper: APIClient, fault: str
) -> None:
    em = faulty_stripe
    inject(em, "POST /v1/billing_portal/sessions", fault, count=1)

    assert_clear_error(shopper.post(PORTAL_URL, {}, format="json"))
    response = shopper.post(PORTAL_URL, {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["url"].startswith(em.url)
    assert len(remote(em, "customer")) == 1  # the customer made for the first try, reused


def test_a_lost_customer_create_then_an_edit_leaves_one_provider_customer(
    faulty_stripe: StripeEmulator,
) -> None:
    em = faulty_stripe
    customer = get_or_create_customer(UserFactory(username="lost", email="lost@example.com"))
    inject(em, "POST /v1/customers", "delay", count=1)

    assert sync_customer(customer).action is SyncAction.FAILED  # the answer never came
    time.sleep(PAST_TIMEOUT)  # but the provider made the customer
    assert len(remote(em, "customer")) == 1
    Customer.objects.filter(pk=customer.pk).update(name="Edited since")
    customer.refresh_from_db()

    result = sync_customer(customer)

    # Same key, other data: the provider refuses the key, the earlier customer is adopted.
    assert result.action is SyncAction.CREATED
    [theirs] = remote(em, "customer")
    assert (result.external_id, theirs["name"]) == (theirs["id"], "Edited since")
    assert ExternalCustomer.objects.get(customer=customer).external_id == theirs["id"]
