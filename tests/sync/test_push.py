"""Pushing the catalog and customers: create, update, archive, replace, and nothing twice."""

from __future__ import annotations

import dataclasses

import pytest

from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    METADATA_MODEL_KEY,
    CustomerData,
    PriceData,
)
from django_payments_sync.exceptions import PermanentProviderError, TransientProviderError
from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    Pricing,
    Product,
    ProviderDeletion,
    SyncStatus,
)
from django_payments_sync.sync.catalog import sync_product
from django_payments_sync.sync.customers import (
    ensure_provider_customer,
    sync_customer,
    sync_customer_or_raise,
)
from django_payments_sync.sync.push import diff, push_all
from django_payments_sync.sync.rows import SyncAction, record_deletion
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    PriceSnapshot,
    idempotency_key,
)
from tests.factories import (
    BillingInformationFactory,
    CustomerFactory,
    PricingFactory,
    ProductFactory,
)
from tests.sync.conftest import Provider

pytestmark = pytest.mark.django_db


def _catalog() -> tuple[Product, Pricing, Pricing]:
    product = ProductFactory(name="Pro", metadata={"seats": 5})
    monthly = PricingFactory(product=product, amount=1500, interval="month", nickname="Monthly")
    once = PricingFactory(product=product, amount=9900, interval="", nickname="Lifetime")
    return product, monthly, once


def _ext_price(pricing: Pricing, provider: Provider) -> str:
    return ExternalPricing.objects.get(
        provider=provider.backend.provider_name, pricing=pricing
    ).external_id


def test_first_push_creates_everything_with_local_identity(provider: Provider) -> None:
    product, monthly, once = _catalog()
    customer = CustomerFactory(name="Ada")
    report = push_all()
    assert report.counts()["created"] == 4
    assert report.failures == []

    [remote_product] = provider.products()
    assert (remote_product.name, remote_product.active) == ("Pro", True)
    assert remote_product.metadata == {
        "seats": "5",
        METADATA_ID_KEY: str(product.pk),
        METADATA_MODEL_KEY: "django_payments_sync.product",
    }
    prices = {p.id: p for p in provider.prices()}
    remote_monthly = prices[_ext_price(monthly, provider)]
    assert (remote_monthly.amount, remote_monthly.interval, remote_monthly.nickname) == (
        1500,
        "month",
        "Monthly",
    )
    assert remote_monthly.product_id == remote_product.id
    assert prices[_ext_price(once, provider)].interval is None
    [remote_customer] = provider.customers()
    assert (remote_customer.email, remote_customer.name) == (customer.email, "Ada")

    for row in (product, monthly, once, customer):
        row.refresh_from_db()
        assert row.sync_status == SyncStatus.SYNCED
        assert row.synced_at is not None
    assert ExternalProduct.objects.get(product=product).content_hash
    assert ExternalCustomer.objects.get(customer=customer).external_id == remote_customer.id


def test_second_push_over_unchanged_data_makes_no_call(provider: Provider) -> None:
    _catalog()
    CustomerFactory()
    push_all()
    provider.clear()
    report = push_all()
    assert provider.calls() == []
    assert report.counts()["unchanged"] == 4


def test_changed_product_is_updated_alone(provider: Provider) -> None:
    product, _, _ = _catalog()
    push_all()
    provider.clear()
    product.name = "Pro Max"
    product.metadata = {"seats": 10}
    product.save()
    report = push_all()
    assert report.counts() == {**report.counts(), "updated": 1, "unchanged": 2}
    [remote] = provider.products()
    assert remote.name == "Pro Max"
    assert remote.metadata["seats"] == "10"
    assert len(provider.writes()) == 1


def test_changed_terms_replace_the_price(provider: Provider) -> None:
    _, monthly, _ = _catalog()
    push_all()
    old_id = _ext_price(monthly, provider)
    monthly.amount = 1900
    monthly.save()
    report = push_all()
    [result] = [r for r in report.results if r.detail == "replaced"]
    assert result.action is SyncAction.UPDATED
    new_id = _ext_price(monthly, provider)
    assert new_id != old_id
    prices = {p.id: p for p in provider.prices()}
    assert (prices[new_id].amount, prices[new_id].active) == (1900, True)
    assert prices[old_id].active is False
    assert len(prices) == 3


def test_changed_nickname_updates_the_same_price(provider: Provider) -> None:
    _, monthly, _ = _catalog()
    push_all()
    old_id = _ext_price(monthly, provider)
    monthly.nickname = "Per month"
    monthly.save()
    push_all()
    assert _ext_price(monthly, provider) == old_id
    assert {p.id: p for p in provider.prices()}[old_id].nickname == "Per month"


def test_deactivated_product_is_archived_with_its_prices(provider: Provider) -> None:
    product, _, _ = _catalog()
    push_all()
    product.active = False
    product.save()
    report = push_all()
    assert report.counts()["archived"] == 3
    assert [p.active for p in provider.products()] == [False]
    assert {p.active for p in provider.prices()} == {False}


def test_deleted_product_is_archived_by_a_pruning_push(provider: Provider) -> None:
    # Outside a captured commit the autosync of the delete never runs: as with AUTO_SYNC off.
    product, _, _ = _catalog()
    keep = ProductFactory(name="Keep")
    push_all()
    product.delete()
    assert push_all().counts()["archived"] == 0  # a plain push does not look for orphans
    report = push_all(prune=True)
    assert report.counts()["archived"] == 3
    active = {p.name for p in provider.products() if p.active}
    assert active == {keep.name}
    assert {p.active for p in provider.prices()} == {False}


def test_a_lost_create_answer_is_adopted_not_duplicated(provider: Provider) -> None:
    product, _, _ = _catalog()
    push_all()
    # As if the process died after the provider created them, before the links were saved.
    ExternalProduct.objects.all().delete()
    ExternalPricing.objects.all().delete()
    provider.clear()
    push_all()
    assert len(provider.products()) == 1
    assert len(provider.prices()) == 2
    assert provider.writes() == []
    assert ExternalProduct.objects.get(product=product).external_id == provider.products()[0].id


def test_failed_create_is_marked_pending_and_retried_without_duplicates(provider: Provider) -> None:
    product, _, _ = _catalog()
    provider.fail_next("create_product")
    report = push_all(customers=False)
    assert [r.action for r in report.results] == [SyncAction.FAILED]
    product.refresh_from_db()
    assert product.sync_status == SyncStatus.PENDING
    assert "Transient" in product.sync_error
    assert provider.products() == []

    report = push_all(customers=False)
    assert report.failures == []
    product.refresh_from_db()
    assert (product.sync_status, product.sync_error) == (SyncStatus.SYNCED, "")
    assert len(provider.products()) == 1
    assert len(provider.prices()) == 2


def test_failed_archive_during_replacement_is_finished_by_the_next_push(provider: Provider) -> None:
    _, monthly, _ = _catalog()
    push_all()
    old_id = _ext_price(monthly, provider)
    monthly.amount = 2500
    monthly.save()
    provider.fail_next("archive_price")
    report = push_all()
    assert len(report.failures) == 1
    assert _ext_price(monthly, provider) == old_id  # the link moves only once all is done
    push_all()
    new_id = _ext_price(monthly, provider)
    prices = {p.id: p for p in provider.prices()}
    # One new price, not two: the retry got the same answer for the same idempotency key.
    assert len(prices) == 3
    assert prices[old_id].active is False
    assert (prices[new_id].amount, prices[new_id].active) == (2500, True)


def test_dry_run_changes_nothing(provider: Provider) -> None:
    product, _, _ = _catalog()
    CustomerFactory()
    report = push_all(dry_run=True)
    assert report.counts()["created"] == 4
    assert all(r.dry_run for r in report.results)
    assert provider.writes() == []
    assert not ExternalProduct.objects.exists()
    product.refresh_from_db()
    assert product.sync_status == SyncStatus.PENDING


# --- customers ----------------------------------------------------------------------------


def test_customer_with_billing_information_and_vat_number(provider: Provider) -> None:
    billing = BillingInformationFactory(
        name="Acme GmbH",
        address_line1="Hauptstr. 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        tax_id="DE123456789",
        tax_exemption="reverse",
    )
    result = sync_customer(billing.customer)
    assert result.action is SyncAction.CREATED
    [remote] = provider.customers()
    assert (remote.name, remote.email, remote.tax_exemption) == (
        "Acme GmbH",
        billing.email,
        "reverse",
    )
    assert remote.address is not None
    assert (remote.address.line1, remote.address.city, remote.address.country) == (
        "Hauptstr. 1",
        "Berlin",
        "DE",
    )
    assert [(t.type, t.value) for t in provider.backend.list_tax_ids(remote.id)] == [
        ("eu_vat", "DE123456789")
    ]

    billing.tax_id = "ATU12345678"
    billing.tax_exemption = "none"
    billing.save()
    customer = type(billing.customer).objects.get(pk=billing.customer.pk)
    assert sync_customer(customer).action is SyncAction.UPDATED
    assert [t.value for t in provider.backend.list_tax_ids(remote.id)] == ["ATU12345678"]
    assert provider.customers()[0].tax_exemption == "none"

    provider.clear()
    assert sync_customer(customer).action is SyncAction.UNCHANGED
    assert provider.calls() == []


def test_invalid_vat_number_marks_the_customer_failed(provider: Provider) -> None:
    billing = BillingInformationFactory(tax_id="123")
    customer = billing.customer
    result = sync_customer(customer)
    assert result.action is SyncAction.FAILED
    assert isinstance(result.error, PermanentProviderError)
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.FAILED
    assert "eu_vat" in customer.sync_error
    with pytest.raises(PermanentProviderError) as info:
        sync_customer_or_raise(customer)
    assert info.value.user_message == "The tax ID is not valid."
    # The provider customer itself exists once, linked, whatever the retries.
    assert len(provider.customers()) == 1
    assert ExternalCustomer.objects.filter(customer=customer).count() == 1


def test_ensure_provider_customer_creates_once(provider: Provider) -> None:
    customer = CustomerFactory()
    first = ensure_provider_customer(customer)
    provider.clear()
    assert ensure_provider_customer(customer) == first
    assert provider.calls() == []


def test_sync_product_alone_pushes_its_prices(provider: Provider) -> None:
    product, _, _ = _catalog()
    results = sync_product(product)
    assert [r.object_type for r in results] == ["product", "price", "price"]
    assert all(r.action is SyncAction.CREATED for r in results)


# --- drift --------------------------------------------------------------------------------


def test_diff_reports_local_and_provider_side_changes(provider: Provider) -> None:
    product, monthly, _ = _catalog()
    assert {d.kind for d in diff()} == {"missing"}
    push_all()
    assert diff() == []

    Product.objects.filter(pk=product.pk).update(name="Renamed locally")
    provider.backend.update_price_metadata(
        _ext_price(monthly, provider),
        _price_data_with_nickname(monthly, "Changed at the provider"),
    )
    drifts = {(d.object_type, d.kind): d for d in diff()}
    assert drifts[("product", "differs")].fields["name"] == ("Renamed locally", "Pro")
    assert drifts[("price", "differs")].fields["nickname"] == ("Monthly", "Changed at the provider")

    push_all(prune=True)
    assert diff() == []


def _price_data_with_nickname(pricing: Pricing, nickname: str) -> PriceData:
    """What a person editing the price in the provider's dashboard would leave there."""
    product_ext = ExternalProduct.objects.get(product=pricing.product).external_id
    snapshot = PriceSnapshot.from_pricing(pricing, product_active=True)
    return dataclasses.replace(snapshot.price_data(product_ext), nickname=nickname)


def test_push_after_a_timeout_creates_no_duplicate(settings, stripe_emulator) -> None:  # type: ignore[no-untyped-def]
    from tests.backends.helpers import RecordingHTTPClient, emulator_options

    options = emulator_options(stripe_emulator.url, max_network_retries=0, timeout=0.3)
    options["http_client"] = RecordingHTTPClient(timeout=0.3)
    settings.PAYMENTS_SYNC = {"OPTIONS": options}
    product, _, _ = _catalog()
    # The emulator answers the create after we gave up: the product exists, we do not know it.
    stripe_emulator.inject_fault("POST /v1/products", "delay", count=1, delay=0.8)
    report = push_all(customers=False)
    assert [r.action for r in report.results] == [SyncAction.FAILED]
    assert report.results[0].error is not None
    assert report.results[0].error.retryable
    product.refresh_from_db()
    assert product.sync_status == SyncStatus.PENDING

    assert push_all(customers=False).failures == []
    client = stripe_emulator.client()
    assert len(client.v1.products.list().data) == 1
    assert len(client.v1.prices.list().data) == 2


def test_pruning_push_deletes_provider_customers_whose_row_is_gone(provider: Provider) -> None:
    gone, kept = CustomerFactory(), CustomerFactory()
    push_all()
    gone_id = ExternalCustomer.objects.get(customer=gone).external_id
    gone.delete()  # no captured commit: its autosync never runs
    assert [d.kind for d in diff()] == ["orphan"]
    report = push_all(prune=True)
    assert [(r.action, r.external_id) for r in report.results if r.action != "unchanged"] == [
        (SyncAction.DELETED, gone_id)
    ]
    assert [c.email for c in provider.customers()] == [kept.email]


def test_terms_that_come_back_get_a_new_active_price(provider: Provider) -> None:
    _, monthly, _ = _catalog()
    push_all()
    first = _ext_price(monthly, provider)
    for amount in (1900, 1500):  # A -> B -> A, within the provider's idempotency window
        monthly.amount = amount
        monthly.save()
        push_all()
    last = _ext_price(monthly, provider)
    prices = {p.id: p for p in provider.prices()}
    assert last != first
    assert (prices[last].amount, prices[last].active) == (1500, True)
    assert prices[first].active is False
    assert diff() == []


def test_a_vat_number_that_comes_back_is_added_again(provider: Provider) -> None:
    billing = BillingInformationFactory(tax_id="DE123456789")
    sync_customer(billing.customer)
    external_id = ExternalCustomer.objects.get(customer=billing.customer).external_id
    for value in ("ATU12345678", "DE123456789"):
        billing.tax_id = value
        billing.save()
        customer = type(billing.customer).objects.get(pk=billing.customer.pk)
        assert sync_customer(customer).ok
    assert [t.value for t in provider.backend.list_tax_ids(external_id)] == ["DE123456789"]


def test_a_vat_number_removed_and_added_again_and_again_is_there_each_time(
    provider: Provider,
) -> None:
    """A, none, A, none, A: each add is a new request (never the first add's replay)."""
    billing = BillingInformationFactory(tax_id="DE123456789")
    sync_customer(billing.customer)
    external_id = ExternalCustomer.objects.get(customer=billing.customer).external_id
    for value in ("", "DE123456789", "", "DE123456789"):
        billing.tax_id = value
        billing.save()
        customer = type(billing.customer).objects.get(pk=billing.customer.pk)
        assert sync_customer(customer).ok
        present = [t.value for t in provider.backend.list_tax_ids(external_id)]
        assert present == ([value] if value else []), value


def test_a_vat_number_deleted_in_the_dashboard_is_added_back_by_reconcile(
    provider: Provider,
) -> None:
    from django_payments_sync.interactor.reconcile import reconcile

    billing = BillingInformationFactory(tax_id="DE123456789")
    sync_customer(billing.customer)
    external_id = ExternalCustomer.objects.get(customer=billing.customer).external_id
    for _ in range(2):
        (tax_id,) = provider.backend.list_tax_ids(external_id)
        provider.backend.delete_tax_id(external_id, tax_id.id)
        assert reconcile(rate=1000).failures == []
        assert [t.value for t in provider.backend.list_tax_ids(external_id)] == ["DE123456789"]


def test_a_customer_deleted_at_the_provider_is_not_created_again(provider: Provider) -> None:
    customer = CustomerFactory(name="Ada")
    sync_customer(customer)
    old_id = ExternalCustomer.objects.get(customer=customer).external_id
    provider.backend.delete_customer(old_id)
    customer.name = "Ada L."
    customer.save()
    result = sync_customer(customer)
    assert result.action is SyncAction.SKIPPED
    assert provider.customers() == []
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.FAILED
    assert "deleted at the provider" in customer.sync_error
    assert ProviderDeletion.objects.filter(external_id=old_id, object_type="customer").exists()
    # Asked again, and the answer is the same: no call creates it.
    assert sync_customer(customer).action is SyncAction.SKIPPED
    assert provider.customers() == []


def test_a_customer_deleted_at_the_provider_is_created_anew_when_asked(provider: Provider) -> None:
    customer = CustomerFactory(name="Ada")
    sync_customer(customer)
    old_id = ExternalCustomer.objects.get(customer=customer).external_id
    provider.backend.delete_customer(old_id)
    customer.name = "Ada L."
    customer.save()
    assert sync_customer(customer).action is SyncAction.SKIPPED
    assert sync_customer(customer, recreate_deleted=True).action is SyncAction.CREATED
    new_id = ExternalCustomer.objects.get(customer=customer).external_id
    assert new_id != old_id
    assert [(c.id, c.name) for c in provider.customers()] == [(new_id, "Ada L.")]


def test_a_push_sends_only_what_changed_locally(provider: Provider) -> None:
    """A provider-side edit the push did not hear of yet is not reverted by an unrelated push."""
    billing = BillingInformationFactory(name="Acme", email="billing@example.com")
    customer = billing.customer
    sync_customer(customer)
    external_id = ExternalCustomer.objects.get(customer=customer).external_id
    # The dashboard renames the customer; its event has not arrived.
    provider.backend.update_customer(
        external_id,
        CustomerData(local_id=str(customer.pk), email="billing@example.com", name="Acme Ltd"),
        fields=["name"],
    )
    # Something else changes locally (a VAT answer changes the exemption) and pushes.
    billing.tax_exemption = "reverse"
    billing.save()
    customer.refresh_from_db()
    assert sync_customer(customer).action is SyncAction.UPDATED
    (remote,) = provider.customers()
    assert (remote.name, remote.tax_exemption) == ("Acme Ltd", "reverse")


def test_ensure_provider_customer_creates_a_new_one_for_a_deleted_customer(
    provider: Provider,
) -> None:
    customer = CustomerFactory(name="Ada")
    sync_customer(customer)
    old_id = ExternalCustomer.objects.get(customer=customer).external_id
    provider.backend.delete_customer(old_id)
    customer.name = "Ada L."
    customer.save()
    assert sync_customer(customer).action is SyncAction.SKIPPED  # the push finds it gone
    new_id = ensure_provider_customer(customer)
    assert new_id != old_id
    assert [c.id for c in provider.customers()] == [new_id]


def test_ensure_provider_customer_returns_the_customer_even_if_its_vat_number_is_refused(
    provider: Provider,
) -> None:
    billing = BillingInformationFactory(tax_id="123")
    external_id = ensure_provider_customer(billing.customer)
    assert [c.id for c in provider.customers()] == [external_id]
    billing.customer.refresh_from_db()
    assert billing.customer.sync_status == SyncStatus.FAILED


def test_ensure_provider_customer_raises_when_it_cannot_create(provider: Provider) -> None:
    customer = CustomerFactory()
    provider.fail_next("create_customer")
    with pytest.raises(TransientProviderError):
        ensure_provider_customer(customer)
    assert provider.customers() == []


def test_a_product_deleted_at_the_provider_is_not_created_again(provider: Provider) -> None:
    product, _, _ = _catalog()
    push_all()
    product_id = ExternalProduct.objects.get(product=product).external_id
    if provider.name == "locmem":
        provider.backend.products.pop(product_id)
    else:
        # Stripe refuses to delete a product with prices: the emulator's store is the dashboard.
        provider.emulator.store.remove("product", product_id)
    Product.objects.filter(pk=product.pk).update(name="Renamed")
    product.refresh_from_db()
    results = sync_product(product)
    assert results[0].action is SyncAction.SKIPPED
    assert len(results) == 1  # its prices are not pushed onto a deleted product
    product.refresh_from_db()
    assert product.sync_status == SyncStatus.FAILED
    assert "deleted at the provider" in product.sync_error
    assert ProviderDeletion.objects.filter(object_type="product", external_id=product_id).exists()
    assert [p.id for p in provider.products()] == []
    # Asked to, it creates a new product and moves the prices onto it.
    results = sync_product(product, recreate_deleted=True)
    assert results[0].action is SyncAction.CREATED
    assert all(r.ok for r in results), results
    (remote,) = provider.products()
    assert remote.id != product_id
    assert remote.name == "Renamed"
    assert {p.product_id for p in provider.prices() if p.active} == {remote.id}


def test_a_lost_create_answered_later_with_a_deleted_customer_is_not_linked_as_live(
    provider: Provider,
) -> None:
    """The push's create reached the provider but its answer was lost; the customer was then
    deleted at the provider (the event recorded it). The retry's idempotent answer names the
    deleted customer: it must not be taken for a live one."""
    customer = CustomerFactory(name="Lost")
    snapshot = CustomerSnapshot.from_customer(customer)
    first = provider.backend.create_customer(
        snapshot.data, idempotency_key=idempotency_key(customer, "create", "")
    )
    provider.backend.delete_customer(first.id)
    record_deletion(provider.backend.provider_name, "customer", first.id, event_id="evt_del")
    result = sync_customer(customer)
    assert result.action is SyncAction.SKIPPED
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.FAILED
    assert first.id in customer.sync_error
    assert provider.customers() == []
    # Asked to, a new customer (a new request, not the replay) is created.
    assert sync_customer(customer, recreate_deleted=True).action is SyncAction.CREATED
    (remote,) = provider.customers()
    assert remote.id != first.id
