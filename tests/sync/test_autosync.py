"""Automatic sync after commit: saves and deletes reach the provider; failures lose nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from django_payments_sync.backends.types import SubscriptionData
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    Product,
    SyncStatus,
)
from django_payments_sync.sync.autosync import suppress_autosync
from django_payments_sync.sync.push import push_all
from tests.factories import (
    BillingInformationFactory,
    CustomerFactory,
    PricingFactory,
    ProductFactory,
    SubscriptionFactory,
)
from tests.sync.conftest import Provider

pytestmark = pytest.mark.django_db


def test_saved_product_and_price_are_pushed_after_commit(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pricing = PricingFactory(product__name="Team")
        assert locmem.calls() == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert [p.name for p in locmem.products()] == ["Team"]
    assert len(locmem.prices()) == 1
    pricing.refresh_from_db()
    assert pricing.sync_status == SyncStatus.SYNCED
    assert ExternalPricing.objects.filter(pricing=pricing).exists()


def test_rolled_back_save_pushes_nothing(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    def save_then_fail() -> None:
        with transaction.atomic():
            ProductFactory()
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        save_then_fail()
    assert callbacks == []
    assert locmem.calls() == []


def test_edits_deactivation_and_delete_of_a_product(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pricing = PricingFactory(product__name="Team")
    product = pricing.product
    with django_capture_on_commit_callbacks(execute=True):
        product.name = "Team Plus"
        product.save()
    assert [p.name for p in locmem.products()] == ["Team Plus"]

    with django_capture_on_commit_callbacks(execute=True):
        product.active = False
        product.save()
    assert [p.active for p in locmem.products()] == [False]
    assert [p.active for p in locmem.prices()] == [False]

    with django_capture_on_commit_callbacks(execute=True):
        product.active = True
        product.save()
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    assert [p.active for p in locmem.products()] == [False]
    assert [p.active for p in locmem.prices()] == [False]
    assert not ExternalProduct.objects.exists()


def test_several_saves_in_one_transaction_push_once(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        product = ProductFactory(name="A")
        for name in ("B", "C", "D"):
            product.name = name
            product.save()
    assert [c[1] for c in locmem.writes()] == ["create_product"]
    assert [p.name for p in locmem.products()] == ["D"]


def test_customer_billing_and_delete(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        customer = CustomerFactory(name="Ada")
    [remote] = locmem.customers()
    assert remote.name == "Ada"
    with django_capture_on_commit_callbacks(execute=True):
        BillingInformationFactory(
            customer=customer, name="Ada Ltd", country="AT", tax_id="ATU12345678"
        )
    [remote] = locmem.customers()
    assert (remote.name, remote.address and remote.address.country) == ("Ada Ltd", "AT")
    assert [t.value for t in locmem.backend.list_tax_ids(remote.id)] == ["ATU12345678"]

    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.get(pk=customer.pk).delete()
    assert locmem.customers() == []
    assert remote.id in locmem.backend.deleted_customers  # type: ignore[attr-defined]


def test_subscription_changes_and_delete(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        subscription = SubscriptionFactory(quantity=1)
        bigger = PricingFactory(product=subscription.pricing.product, amount=2500)
    customer_id = ExternalCustomer.objects.get(customer=subscription.customer).external_id
    price_id = ExternalPricing.objects.get(pricing=subscription.pricing).external_id
    remote = locmem.backend.create_subscription(
        SubscriptionData(local_id=str(subscription.pk), customer_id=customer_id, price_id=price_id),
        idempotency_key="sub",
    )
    # Linked the way the webhook side links it: the provider's state is the starting point.
    ExternalSubscription.objects.create(
        provider="locmem", external_id=remote.id, subscription=subscription
    )
    with django_capture_on_commit_callbacks(execute=True):
        subscription.save()
    assert locmem.backend.calls_to("update_subscription") == []

    with django_capture_on_commit_callbacks(execute=True):
        subscription.quantity = 4
        subscription.pricing = bigger
        subscription.save()
    [call] = locmem.backend.calls_to("update_subscription")
    assert call.kwargs["quantity"] == 4
    assert call.kwargs["proration_behavior"] == "create_prorations"
    changed = locmem.backend.subscriptions[remote.id]  # type: ignore[attr-defined]
    assert (changed.quantity, changed.price_id) == (
        4,
        ExternalPricing.objects.get(pricing=bigger).external_id,
    )

    with django_capture_on_commit_callbacks(execute=True):
        subscription.delete()
    assert locmem.backend.subscriptions[remote.id].status == "canceled"  # type: ignore[attr-defined]


def test_provider_failure_keeps_the_local_change_and_push_retries_it(
    provider: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.fail_next("create_product")
    with django_capture_on_commit_callbacks(execute=True):
        product = ProductFactory(name="Saved anyway")
    product = Product.objects.get(pk=product.pk)
    assert product.name == "Saved anyway"
    assert product.sync_status == SyncStatus.PENDING
    assert product.sync_error
    assert provider.products() == []

    report = push_all(customers=False)
    assert report.failures == []
    assert [p.name for p in provider.products()] == ["Saved anyway"]
    product.refresh_from_db()
    assert product.sync_status == SyncStatus.SYNCED


def test_customer_failure_is_pending_and_never_duplicated(
    provider: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.fail_next("create_customer", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        customer = CustomerFactory()
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.PENDING
    push_all()
    push_all()
    assert len(provider.customers()) == 1


def test_auto_sync_off_and_suppressed_blocks_push_nothing(
    locmem: Provider, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with suppress_autosync(), django_capture_on_commit_callbacks(execute=True):
        ProductFactory()
    assert locmem.calls() == []
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "AUTO_SYNC": False}
    from django_payments_sync.backends import get_backend

    backend = get_backend()
    with django_capture_on_commit_callbacks(execute=True):
        ProductFactory()
    assert backend.calls == []  # type: ignore[attr-defined]


def test_deleting_a_customer_cancels_its_subscriptions_then_deletes_it(
    provider: Provider, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        subscription = SubscriptionFactory()
    customer_id = ExternalCustomer.objects.get(customer=subscription.customer).external_id
    remote = provider.backend.create_subscription(
        SubscriptionData(
            local_id=str(subscription.pk),
            customer_id=customer_id,
            price_id=ExternalPricing.objects.get(pricing=subscription.pricing).external_id,
            trial_period_days=7,
        ),
        idempotency_key="sub-to-delete",
    )
    ExternalSubscription.objects.create(
        provider=provider.name, external_id=remote.id, subscription=subscription
    )
    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.get(pk=subscription.customer.pk).delete()
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
    assert provider.customers() == []
    assert [s.status for s in provider.backend.list_subscriptions()] == ["canceled"]


def test_a_quantity_that_comes_back_is_pushed_again(
    locmem: Provider, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        subscription = SubscriptionFactory(quantity=1)
    remote = locmem.backend.create_subscription(
        SubscriptionData(
            local_id=str(subscription.pk),
            customer_id=ExternalCustomer.objects.get(customer=subscription.customer).external_id,
            price_id=ExternalPricing.objects.get(pricing=subscription.pricing).external_id,
        ),
        idempotency_key="sub",
    )
    ExternalSubscription.objects.create(
        provider="locmem", external_id=remote.id, subscription=subscription
    )
    for quantity in (2, 1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            subscription.quantity = quantity
            subscription.save()
        assert locmem.backend.subscriptions[remote.id].quantity == quantity  # type: ignore[attr-defined]


def test_a_save_that_changes_nothing_never_reverts_a_newer_provider_change(
    stripe_provider: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A subscription applied from events, changed again in the dashboard (event not arrived
    yet), then saved by the host without a change: nothing is pushed, the provider keeps it."""
    from django_payments_sync.models import ExternalCustomer, ExternalPricing, Subscription
    from tests.backends.helpers import WEBHOOK_SECRET
    from tests.factories import CustomerFactory, PricingFactory
    from tests.reliability.conftest import deliver

    em = stripe_provider.emulator
    client: Any = em.client()
    customer = CustomerFactory()
    pricing = PricingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        push_all()
    cus = ExternalCustomer.objects.get(customer=customer).external_id
    price = ExternalPricing.objects.get(pricing=pricing).external_id
    client.v1.customers.update(
        cus, {"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    sub = client.v1.subscriptions.create({"customer": cus, "items": [{"price": price}]})
    item = sub["items"]["data"][0]["id"]
    client.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 3}]})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(em, WEBHOOK_SECRET)
    local = Subscription.objects.get()
    assert local.quantity == 3
    client.v1.subscriptions.update(sub.id, {"items": [{"id": item, "quantity": 5}]})
    stripe_provider.clear()
    with django_capture_on_commit_callbacks(execute=True):
        local.save()  # e.g. the admin's Save button on an unchanged form
    assert client.v1.subscriptions.retrieve(sub.id)["items"]["data"][0]["quantity"] == 5
    assert [c for c in stripe_provider.calls() if c[0] == "write"] == []
