"""Every model has a working admin: changelists render, search by email/name/external id works."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from django_payments_sync.models import (
    ExternalCustomer,
    Invoice,
    ProviderDeletion,
    SyncState,
    WebhookEvent,
)
from tests.factories import BillingInformationFactory, OrderFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> None:
    subscription = SubscriptionFactory(customer__email="carol@example.com")
    ExternalCustomer.objects.create(
        customer=subscription.customer, provider="stripe", external_id="cus_carol"
    )
    BillingInformationFactory(customer=subscription.customer)
    OrderFactory(customer=subscription.customer)
    WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_1",
        type="customer.created",
        provider_created_at="2026-01-01T00:00:00Z",
        payload={"id": "evt_1", "secret_looking": "<b>escaped</b>"},
    )
    ProviderDeletion.objects.create(
        provider="stripe",
        object_type="customer",
        external_id="cus_gone",
        deleted_at="2026-01-02T00:00:00Z",
        event_id="evt_2",
    )
    SyncState.objects.create(key="reconcile:checkpoint", value={"phase": "customers", "after": 3})
    Invoice.objects.create(
        customer=subscription.customer,
        subscription=subscription,
        provider="stripe",
        external_id="in_carol",
        number="CAROL-0001",
        status="paid",
        currency="eur",
        total=1500,
        issued_at="2026-01-03T00:00:00Z",
    )


def test_every_model_of_the_app_is_registered() -> None:
    from django.apps import apps

    for model in apps.get_app_config("django_payments_sync").get_models():
        if not model._meta.swapped:
            assert admin.site.is_registered(model), model


def test_changelists_and_change_pages_render(admin_client, data) -> None:  # type: ignore[no-untyped-def]
    from django.apps import apps

    for model in apps.get_app_config("django_payments_sync").get_models():
        if not admin.site.is_registered(model):
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
        assert admin_client.get(url, {"q": "carol"}).status_code == 200, url
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change


def test_customer_search_by_external_id(admin_client, data) -> None:  # type: ignore[no-untyped-def]
    url = reverse("admin:django_payments_sync_customer_changelist")
    assert b"carol@example.com" in admin_client.get(url, {"q": "cus_carol"}).content
    assert b"carol@example.com" not in admin_client.get(url, {"q": "cus_nobody"}).content


def test_webhook_payload_is_read_only_and_escaped(admin_client, data) -> None:  # type: ignore[no-untyped-def]
    event = WebhookEvent.objects.get()
    page = admin_client.get(
        reverse("admin:django_payments_sync_webhookevent_change", args=[event.pk])
    ).content
    assert b"&lt;b&gt;escaped&lt;/b&gt;" in page
    assert b'name="payload"' not in page


def test_invoices_are_searched_by_number_and_read_only(admin_client, data) -> None:  # type: ignore[no-untyped-def]
    url = reverse("admin:django_payments_sync_invoice_changelist")
    assert b"CAROL-0001" in admin_client.get(url, {"q": "CAROL-0001"}).content
    assert b"CAROL-0001" not in admin_client.get(url, {"q": "nobody"}).content
    invoice = Invoice.objects.get()
    change = reverse("admin:django_payments_sync_invoice_change", args=[invoice.pk])
    admin_client.post(change, {"number": "EDITED", "status": "void"})
    invoice.refresh_from_db()
    assert (invoice.number, invoice.status) == ("CAROL-0001", "paid")


def test_the_customer_page_shows_its_entitlements_read_only(admin_client) -> None:  # type: ignore[no-untyped-def]
    """What has_feature and limit answer for the owner, from its plan; the provider's
    entitlements (written by its events) are shown, never editable."""
    from django_payments_sync.models import Customer
    from tests.factories import PricingFactory, ProductFactory, UserFactory

    owner = UserFactory()
    customer = Customer.objects.get_or_create(owner=owner, defaults={"email": "e@example.com"})[0]
    customer.provider_entitlements = ["provider-sso"]
    customer.save(update_fields=["provider_entitlements"])
    url = reverse("admin:django_payments_sync_customer_change", args=[customer.pk])

    page = admin_client.get(url).content.decode()
    assert "features: none; limits: none (free tier)" in page
    assert "provider-sso" in page
    assert 'name="provider_entitlements"' not in page

    pricing = PricingFactory(
        product=ProductFactory(metadata={"features": "sso, audit", "seats": "10"})
    )
    SubscriptionFactory(customer=customer, pricing=pricing, status="active")
    page = admin_client.get(url).content.decode()
    assert "features: audit, sso; limits: seats=10 (from the plan)" in page
