"""The provider's entitlements (Stripe Entitlements): the Stripe event parsed into the neutral
kind, the handler storing the customer's features, ``ENTITLEMENTS_SOURCE = "provider"`` in
``has_feature`` (one query, then none), and the push of features with the locmem backend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.backends.stripe.events import parse_stripe_event
from django_payments_sync.backends.types import (
    Capability,
    CustomerData,
    EventKind,
    ProviderEntitlements,
)
from django_payments_sync.exceptions import UnsupportedOperation
from django_payments_sync.interactor import payments
from django_payments_sync.models import Customer, ExternalCustomer, ExternalProduct
from django_payments_sync.sync.entitlements import push_features
from django_payments_sync.sync.push import push_all
from django_payments_sync.webhooks.handlers import Deferred, apply_event
from tests.checkout.conftest import LOCMEM_SETTINGS, deliver
from tests.factories import PricingFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

PROVIDER = {
    **LOCMEM_SETTINGS,
    "ENTITLEMENTS_SOURCE": "provider",
    "FREE_TIER": {"FEATURES": ["api"], "LIMITS": {"seats": 1}},
}
T0 = 1_900_000_000


def summary(customer: str, keys: list[str], created: int = T0, event: str = "evt_1") -> Any:
    rows = [
        {
            "id": f"ent_{k}",
            "object": "entitlements.active_entitlement",
            "feature": f"feat_{k}",
            "livemode": False,
            "lookup_key": k,
        }
        for k in keys
    ]
    return parse_stripe_event(
        {
            "id": event,
            "object": "event",
            "type": "entitlements.active_entitlement_summary.updated",
            "created": created,
            "livemode": False,
            "data": {
                "object": {
                    "object": "entitlements.active_entitlement_summary",
                    "customer": customer,
                    "entitlements": {"object": "list", "data": rows, "has_more": False, "url": ""},
                    "livemode": False,
                }
            },
        }
    )


def linked_customer(owner: Any, external_id: str = "cus_1") -> Customer:
    customer = Customer.objects.create(owner=owner, email="o@example.com")
    ExternalCustomer.objects.create(customer=customer, provider="stripe", external_id=external_id)
    return customer


def fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)


# --- the Stripe event, in the library's words ------------------------------------------------
def test_the_summary_event_is_the_neutral_entitlements_kind() -> None:
    event = summary("cus_1", ["sso", "audit", "sso"])
    assert event.kind is EventKind.ENTITLEMENTS_UPDATED
    assert event.customer_id == "cus_1"
    assert event.ordering_key == "customer:cus_1"
    assert event.data == ProviderEntitlements(customer_id="cus_1", lookup_keys=("audit", "sso"))


def test_a_summary_without_its_entitlements_is_ignored_saying_why(user: Any) -> None:
    linked_customer(user)
    event = summary("cus_1", ["sso"])
    del event.object["entitlements"]
    broken = parse_stripe_event({**event.raw, "data": {"object": event.object}})
    assert broken.data is None
    result = apply_event(broken)
    assert result.ignored
    assert "ProviderEntitlements" in result.note
    assert Customer.objects.get().provider_entitlements == []


# --- the handler -----------------------------------------------------------------------------
def test_the_handler_stores_the_whole_set_and_an_older_event_changes_nothing(user: Any) -> None:
    linked_customer(user)
    assert not apply_event(summary("cus_1", ["sso", "audit"], T0 + 10, "evt_2")).ignored
    customer = Customer.objects.get()
    assert customer.provider_entitlements == ["audit", "sso"]
    assert customer.provider_entitlements_at == dt.datetime.fromtimestamp(T0 + 10, dt.UTC)

    older = apply_event(summary("cus_1", [], T0, "evt_1"))
    assert older.ignored
    assert "newer" in older.note
    assert Customer.objects.get().provider_entitlements == ["audit", "sso"]

    apply_event(summary("cus_1", ["audit"], T0 + 20, "evt_3"))
    assert Customer.objects.get().provider_entitlements == ["audit"]


def test_an_event_for_a_customer_not_linked_yet_waits(user: Any) -> None:
    linked_customer(user, "cus_other")
    with pytest.raises(Deferred) as waiting:
        apply_event(summary("cus_1", ["sso"]))
    assert waiting.value.waiting_for == "customer:cus_1"
    assert Customer.objects.get().provider_entitlements == []


# --- has_feature from the provider -----------------------------------------------------------
def subscribe(customer: Customer, metadata: dict[str, Any], status: str = "active") -> Any:
    pricing = PricingFactory(product=ProductFactory(metadata=metadata))
    return SubscriptionFactory(customer=customer, pricing=pricing, status=status)


@override_settings(PAYMENTS_SYNC=PROVIDER)
def test_provider_source_features_from_the_provider_limits_from_the_plans(
    user: Any, other_user: Any
) -> None:
    customer = linked_customer(user)
    plan = subscribe(customer, {"features": ["local-only"], "seats": "10"})
    subscribe(customer, {"features": ["x"], "seats": "99"}, status="canceled")
    Customer.objects.filter(pk=customer.pk).update(provider_entitlements=["sso"])

    owner = fresh(user)
    with CaptureQueriesContext(connection) as first:
        entitlements = payments.get_entitlements(owner)
    assert len(first.captured_queries) == 1
    assert entitlements.as_dict() == {
        "features": ["api", "sso"],
        "limits": {"seats": 10},
        "plans": [plan.pricing.product_id],
        "free_tier": False,
    }
    with CaptureQueriesContext(connection) as again:
        assert payments.has_feature(owner, "sso")
        assert not payments.has_feature(owner, "local-only")
        assert payments.limit(owner, "seats") == 10
    assert len(again.captured_queries) == 0

    # No customer at all: the free tier, in one query too.
    nobody = fresh(other_user)
    with CaptureQueriesContext(connection) as alone:
        assert payments.get_entitlements(nobody).as_dict()["features"] == ["api"]
    assert len(alone.captured_queries) == 1


@override_settings(PAYMENTS_SYNC=PROVIDER)
def test_provider_source_features_without_a_local_plan(user: Any) -> None:
    customer = linked_customer(user)
    Customer.objects.filter(pk=customer.pk).update(provider_entitlements=["sso"])
    entitlements = payments.get_entitlements(fresh(user))
    assert entitlements.features == {"api", "sso"}
    assert entitlements.plans == ()


def test_local_source_ignores_the_providers_entitlements(user: Any) -> None:
    customer = linked_customer(user)
    subscribe(customer, {"features": ["local-only"]})
    Customer.objects.filter(pk=customer.pk).update(provider_entitlements=["sso"])
    assert payments.has_feature(fresh(user), "local-only")
    assert not payments.has_feature(fresh(user), "sso")


# --- the push, with the locmem backend -------------------------------------------------------
@pytest.fixture
def locmem() -> Any:
    with override_settings(PAYMENTS_SYNC=LOCMEM_SETTINGS):
        from django_payments_sync.backends import get_backend

        backend = get_backend()
        assert isinstance(backend, LocmemBackend)
        backend.reset()
        yield backend


def test_push_attaches_features_once_and_unchanged_costs_no_call(locmem: LocmemBackend) -> None:
    team = ProductFactory(metadata={"features": "sso, audit", "seats": "5"})
    solo = ProductFactory(metadata={"features": ["sso"]})
    ProductFactory(metadata={})
    push_all(customers=False)
    remote = {p.product_id: p.external_id for p in ExternalProduct.objects.all()}
    keys = {
        pid: sorted(pf.lookup_key for pf in locmem.list_product_features(ext))
        for pid, ext in remote.items()
    }
    assert keys[team.pk] == ["audit", "sso"]
    assert keys[solo.pk] == ["sso"]
    assert sorted(f.lookup_key for f in locmem.features.values()) == ["audit", "sso"]
    assert len(locmem.calls_to("create_entitlement_feature")) == 2  # "sso" shared
    locmem.calls.clear()
    report = push_all(customers=False)
    assert [r for r in report.results if r.object_type == "product_features"] == []
    assert [c.operation for c in locmem.calls if "feature" in c.operation] == []


def test_events_from_the_provider_reach_the_customer(locmem: LocmemBackend, user: Any) -> None:
    customer = Customer.objects.create(owner=user, email="o@example.com")
    remote = locmem.create_customer(
        CustomerData(local_id=str(customer.pk), email="o@example.com"), idempotency_key="c"
    )
    ExternalCustomer.objects.create(customer=customer, provider="locmem", external_id=remote.id)
    locmem.pop_events()
    locmem.announce_entitlements(remote.id, ["sso"])
    assert deliver(locmem) == ["processed"]
    assert Customer.objects.get().provider_entitlements == ["sso"]


def test_a_backend_without_the_capability_is_skipped_or_refuses(
    locmem: LocmemBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    ProductFactory(metadata={"features": ["sso"]})
    monkeypatch.setattr(
        LocmemBackend, "capabilities", frozenset(Capability) - {Capability.ENTITLEMENTS}
    )
    report = push_all(customers=False)
    assert report.failures == []
    assert [c for c in locmem.calls if "feature" in c.operation] == []
    with pytest.raises(UnsupportedOperation, match="does not support entitlement features"):
        push_features(backend=locmem)


def test_saving_a_product_pushes_its_features_after_commit(
    locmem: LocmemBackend, django_capture_on_commit_callbacks: Any
) -> None:
    from django_payments_sync.backends import get_backend

    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "AUTO_SYNC": True}):
        backend = get_backend()
        with django_capture_on_commit_callbacks(execute=True):
            product = ProductFactory(metadata={"features": ["sso"]})
        ext = ExternalProduct.objects.get(product=product)
        assert [pf.lookup_key for pf in backend.list_product_features(ext.external_id)] == ["sso"]
        with django_capture_on_commit_callbacks(execute=True):
            product.metadata = {"features": ["audit"]}
            product.save()
        keys = [pf.lookup_key for pf in backend.list_product_features(ext.external_id)]
    assert keys == ["audit"]
