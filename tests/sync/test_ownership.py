"""The ownership table: one rule per mapped field, consulted by pushes and handlers alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from django_payments_sync.backends.types import CustomerData, PriceData, ProductData
from django_payments_sync.sync import ownership
from django_payments_sync.sync.ownership import Owner
from django_payments_sync.sync.snapshots import CustomerSnapshot
from django_payments_sync.webhooks.handlers.subscriptions import SUBSCRIPTION_FIELDS
from tests.factories import BillingInformationFactory, CustomerFactory

T = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def test_every_field_a_push_sends_has_an_owner() -> None:
    for cls, entity in ((CustomerData, "customer"), (ProductData, "product"), (PriceData, "price")):
        for f in dataclasses.fields(cls):
            if f.name in ("local_id", "product_id"):
                continue
            assert ownership.owner(entity, f.name) in (Owner.HOST, Owner.NEWEST), f.name
            assert f.name in ownership.pushed_fields(entity)


def test_every_field_a_subscription_handler_writes_has_an_owner() -> None:
    names = {"pricing_id": "price"}
    for name in SUBSCRIPTION_FIELDS:
        assert names.get(name, name) in ownership.applied_fields("subscription"), name


def test_an_unknown_field_is_an_error_not_a_default() -> None:
    with pytest.raises(LookupError, match=r"customer\.phone"):
        ownership.owner("customer", "phone")


def test_the_provider_owns_no_pushed_field_and_the_host_no_applied_one() -> None:
    for rule in ownership.RULES:
        if rule.owner is Owner.PROVIDER:
            assert rule.field not in ownership.pushed_fields(rule.entity)
        if rule.owner is Owner.HOST:
            assert rule.field not in ownership.applied_fields(rule.entity)


@pytest.mark.parametrize(
    ("theirs", "local", "synced", "changed_at", "wins", "why"),
    [
        ("new", "old", "old", T - dt.timedelta(hours=1), True, "a provider edit"),
        ("old", "old", "old", None, False, "nothing changed"),
        ("same", "new", "same", T + dt.timedelta(hours=1), False, "an echo of what it held"),
        ("dash", "host", "old", T + dt.timedelta(hours=1), False, "the host edited later"),
        ("dash", "host", "old", T - dt.timedelta(hours=1), True, "the provider edited later"),
        ("new", "old", None, None, True, "nothing known: the provider's"),
    ],
)
def test_newest_change_wins(theirs, local, synced, changed_at, wins, why) -> None:  # type: ignore[no-untyped-def]
    assert (
        ownership.provider_edit_wins(
            theirs=theirs, local=local, synced=synced, event_time=T, local_changed_at=changed_at
        )
        is wins
    ), why


@pytest.mark.django_db
def test_one_source_per_field_of_the_customer_identity() -> None:
    customer = CustomerFactory(email="person@example.com", name="Person")
    assert ownership.customer_identity(customer, None) == {
        "email": "person@example.com",
        "name": "Person",
    }
    billing = BillingInformationFactory(customer=customer, email="billing@example.com", name="Co")
    assert ownership.customer_identity(customer, billing) == {
        "email": "billing@example.com",
        "name": "Co",
    }
    snapshot = CustomerSnapshot.from_customer(customer)
    assert (snapshot.data.email, snapshot.data.name) == ("billing@example.com", "Co")


@pytest.mark.django_db
def test_a_push_sends_the_fields_that_differ_from_what_the_provider_held() -> None:
    billing = BillingInformationFactory(tax_id="DE123456789")
    snapshot = CustomerSnapshot.from_customer(billing.customer)
    assert set(snapshot.changed_fields({})) == {*snapshot.state()}  # nothing known: all
    held = {**snapshot.state(), "tax_exemption": "reverse", "tax_ids": []}
    assert set(snapshot.changed_fields(held)) == {"tax_exemption", "tax_ids"}


def test_the_documented_table_is_the_code_s() -> None:
    text = DOCS.read_text()
    found = re.search(
        r"<!-- ownership-table:[^>]*-->\n(.*?)\n<!-- /ownership-table -->", text, re.S
    )
    assert found, "docs/sync.md lost its ownership table markers"
    assert found.group(1).strip() == ownership.documented_table().strip()
