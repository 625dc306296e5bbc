"""``diff`` and ``reconcile`` against the Paddle emulator over HTTP: a database and a Paddle
account that disagree on every entity, repaired by the ownership rules to a clean ``diff``."""

from __future__ import annotations

from typing import Any

import pytest
from paddle_billing.Resources.Addresses.Operations import UpdateAddress
from paddle_billing.Resources.Customers.Operations import UpdateCustomer
from paddle_billing.Resources.Prices.Operations import UpdatePrice

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.paddle import PaddleBackend
from django_payments_sync.backends.types import CheckoutData
from django_payments_sync.interactor.reconcile import reconcile
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Product,
    ProviderDeletion,
    Subscription,
)
from django_payments_sync.sync.push import diff, push_all
from django_payments_sync.testing.paddle_emulator import DEFAULT_API_KEY
from tests.factories import (
    BillingInformationFactory,
    CustomerFactory,
    PricingFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paddle(settings: Any, paddle_emulator: Any) -> PaddleBackend:
    settings.PAYMENTS_SYNC = {
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        "OPTIONS": {"api_key": DEFAULT_API_KEY, "api_base": paddle_emulator.url, "max_retries": 0},
        "SELLER_COUNTRY": "DE",
    }
    backend = get_backend()
    assert isinstance(backend, PaddleBackend)
    return backend


def drift() -> list[str]:
    return sorted(d.describe() for d in diff() if d.is_drift)


def subscribe(backend: PaddleBackend, emulator: Any, customer_id: str, price_id: str) -> str:
    session = backend.create_checkout_session(
        CheckoutData(
            mode="subscription",
            price_id=price_id,
            quantity=1,
            success_url="https://x/ok",
            cancel_url="https://x/no",
            customer_id=customer_id,
        ),
        idempotency_key="-",
    )
    return str(emulator.pay_transaction(session.id)["subscription_id"])


def test_reconcile_repairs_every_entity_by_its_owner(
    paddle: PaddleBackend, paddle_emulator: Any
) -> None:
    client = paddle_emulator.client()
    plan = ProductFactory(name="Pro")
    monthly = PricingFactory(product=plan, amount=1500, interval="month", nickname="Monthly")
    yearly = PricingFactory(product=plan, amount=15000, interval="year", nickname="Yearly")
    address_edit = BillingInformationFactory(tax_id="DE123456789").customer
    email_edit = CustomerFactory(email="old@example.com", name="Eve")
    BillingInformationFactory(customer=email_edit, email="old@example.com", name="Eve GmbH")
    host_rename = CustomerFactory(name="Before")
    deleted = CustomerFactory(name="Gone")
    assert push_all().failures == []
    assert drift() == []
    ext = {
        c.pk: ExternalCustomer.objects.get(customer=c).external_id for c in Customer.objects.all()
    }
    price = {p.pk: ExternalPricing.objects.get(pricing=p).external_id for p in (monthly, yearly)}
    # The VAT number reached Paddle as the business's tax_identifier.
    [business] = list(client.businesses.list(ext[address_edit.pk]))
    assert business.tax_identifier == "DE123456789"

    # Catalog: renamed locally without a push; a price's name edited in Paddle's dashboard.
    Product.objects.filter(pk=plan.pk).update(name="Pro (renamed)")
    client.prices.update(price[yearly.pk], UpdatePrice(name="Dashboard"))
    # Customers: Paddle's dashboard edits the address (the host's) and the email (shared),
    # archives the business, archives a customer; the host renames one without a push.
    [address] = list(client.addresses.list(ext[address_edit.pk]))
    client.addresses.update(
        ext[address_edit.pk], address.id, UpdateAddress(first_line="Elsewhere 1")
    )
    client.businesses.archive(ext[address_edit.pk], business.id)
    client.customers.update(ext[email_edit.pk], UpdateCustomer(email="new@example.com"))
    Customer.objects.filter(pk=host_rename.pk).update(name="After")
    client.customers.archive(ext[deleted.pk])
    new = CustomerFactory(name="New")
    # Subscriptions: one applied locally with stale values, one no local row knows.
    stale = subscribe(paddle, paddle_emulator, ext[email_edit.pk], price[monthly.pk])
    paddle.update_subscription(stale, quantity=4, proration_behavior="none")
    paddle.cancel_subscription(stale, at_period_end=True)
    local_stale = Subscription.objects.create(
        customer=email_edit, pricing=monthly, quantity=1, status="incomplete", sync_status="synced"
    )
    ExternalSubscription.objects.create(
        provider="paddle", external_id=stale, subscription=local_stale
    )
    unknown = subscribe(paddle, paddle_emulator, ext[address_edit.pk], price[yearly.pk])

    before = drift()
    assert {line.split(" ")[0] for line in before} == {
        "product",
        "price",
        "customer",
        "subscription",
    }
    report = reconcile(rate=1000)
    assert report.failures == [], report.repairs
    assert drift() == [], (report.repairs, before)

    remote = {c.id: c for c in paddle.list_customers(with_tax_ids=True)}
    assert remote[ext[address_edit.pk]].address.line1 != "Elsewhere 1"
    assert remote[ext[address_edit.pk]].tax_ids == (("eu_vat", "DE123456789"),)
    email = Customer.objects.get(pk=email_edit.pk)
    assert email.email == BillingInformation.objects.get(customer=email).email == "new@example.com"
    assert remote[ext[host_rename.pk]].name == "After"
    # Archived at Paddle is deleted: recorded, not re-created.
    assert ext[deleted.pk] not in remote
    assert ProviderDeletion.objects.filter(external_id=ext[deleted.pk]).exists()
    assert ExternalCustomer.objects.filter(customer=new).exists()
    local_stale.refresh_from_db()
    assert (local_stale.status, local_stale.quantity, local_stale.cancel_at_period_end) == (
        "active",
        4,
        True,
    )
    assert ExternalSubscription.objects.filter(external_id=unknown).exists()
    assert [p.name for p in paddle.list_products()] == ["Pro (renamed)"]
    assert {p.nickname for p in paddle.list_prices()} == {"Monthly", "Yearly"}

    again = reconcile(rate=1000)
    assert again.repairs == []
