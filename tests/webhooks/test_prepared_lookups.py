"""The handlers' prepared lookups give what their querysets give, in one query, compiled once.

Every lookup the handlers prepare is run both ways (compiled SQL with new values, and the
queryset as Django builds it) on the same rows, and the results are compared field by field,
down every ``select_related`` relation and annotation; on each database the suite runs on.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Invoice,
    PaymentAttempt,
    SubscriptionStatus,
)
from django_payments_sync.models.prepared import PreparedLookup
from django_payments_sync.webhooks.handlers import customers, invoices, payments, subscriptions
from tests.factories import (
    BillingInformationFactory,
    OrderFactory,
    PricingFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

#: Every lookup the handlers prepare, with the values of the row the fixture makes for it.
LOOKUPS = {
    "customer link": (customers.CUSTOMER_LINK, {"external_id": "cus_1"}),
    "customer link with its live count": (
        customers.CUSTOMER_LINK_WITH_LIVE_COUNT,
        {"external_id": "cus_1"},
    ),
    "subscription link": (subscriptions.SUBSCRIPTION_LINK, {"external_id": "sub_1"}),
    "subscription link with the event's pricing": (
        subscriptions.SUBSCRIPTION_LINK_WITH_PRICING,
        {"external_id": "sub_1", "price_id": "price_1"},
    ),
    "invoice": (invoices.INVOICE, {"external_id": "in_1"}),
    "checkout's payment attempt": (payments.ATTEMPT, {"external_id": "cs_1"}),
    "checkout's subscription": (payments.SUBSCRIPTION, {"external_id": "sub_1"}),
}


@pytest.fixture
def account() -> dict[str, Any]:
    """Two customers with everything the lookups join, so a wrong value finds the wrong one."""
    rows: dict[str, Any] = {}
    for n in (1, 2):
        billing = BillingInformationFactory()
        customer = billing.customer
        customer.refresh_from_db()
        pricing = PricingFactory(amount=1000 * n)
        ExternalPricing.objects.create(provider="stripe", pricing=pricing, external_id=f"price_{n}")
        subscription = SubscriptionFactory(customer=customer, pricing=pricing)
        SubscriptionFactory(customer=customer, pricing=pricing, status=SubscriptionStatus.CANCELED)
        ExternalCustomer.objects.create(
            provider="stripe",
            customer=customer,
            external_id=f"cus_{n}",
            synced_state={"email": customer.email, "n": n},
        )
        ExternalSubscription.objects.create(
            provider="stripe", subscription=subscription, external_id=f"sub_{n}"
        )
        Invoice.objects.create(
            provider="stripe",
            external_id=f"in_{n}",
            customer=customer,
            subscription=subscription,
            amount_due=500 * n,
            currency="eur",
        )
        order = OrderFactory(customer=customer, pricing=pricing)
        PaymentAttempt.objects.create(provider="stripe", order=order, external_id=f"cs_{n}")
        rows[f"customer_{n}"] = customer
    return rows


def state_of(obj: Model | None, lookup: PreparedLookup[Any]) -> Any:
    """Every concrete field, annotation and ``select_related`` object of ``obj``, as plain data."""
    if obj is None:
        return None
    query = lookup.queryset(**{name: "x" for name in lookup.names}).query
    return _state(obj, query.select_related, set(query.annotations))


def _state(obj: Model | None, related: Any, annotations: set[str]) -> Any:
    if obj is None:
        return None
    state: dict[str, Any] = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    for name in annotations:
        state[name] = getattr(obj, name)
    if isinstance(related, dict):
        for name, nested in related.items():
            field = obj._meta.get_field(name)
            # Loaded with the row, or the comparison would count it as a query.
            assert field.is_cached(obj), f"{name} of {obj!r} was not loaded with it"
            state[name] = _state(getattr(obj, name, None), nested, set())
    return state


@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_a_prepared_lookup_finds_what_its_queryset_finds(
    account: dict[str, Any], name: str
) -> None:
    lookup, values = LOOKUPS[name]
    for n in ("1", "2"):
        these = {key: value[:-1] + n for key, value in values.items()}
        these["provider"] = "stripe"
        expected = next(iter(lookup.queryset(**these)), None)
        assert expected is not None
        with CaptureQueriesContext(connection) as queries:
            found = lookup.first(**these)
        assert len(queries) == 1
        assert state_of(found, lookup) == state_of(expected, lookup)
        assert found.pk == expected.pk


@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_a_prepared_lookup_finds_nothing_where_its_queryset_finds_nothing(
    account: dict[str, Any], name: str
) -> None:
    lookup, values = LOOKUPS[name]
    for provider, other in (("paddle", None), ("stripe", "x' OR '1'='1"), ("stripe", "%")):
        these = {key: other or value for key, value in values.items()}
        assert lookup.first(provider=provider, **these) is None


def test_the_sql_is_compiled_once_per_connection_and_run_with_each_call_s_values(
    account: dict[str, Any],
) -> None:
    lookup = PreparedLookup(customers._customer_links)
    with CaptureQueriesContext(connection) as queries:
        first = lookup.first(provider="stripe", external_id="cus_1")
        compiled = lookup._compiled[connections[DEFAULT_DB_ALIAS]]
        second = lookup.first(provider="stripe", external_id="cus_2")
    assert lookup._compiled[connections[DEFAULT_DB_ALIAS]] is compiled
    assert first is not None
    assert second is not None
    assert (first.external_id, second.external_id) == ("cus_1", "cus_2")
    assert first.customer == account["customer_1"]
    assert second.customer == account["customer_2"]
    # The statement Django writes for the queryset, with each call's values.
    expected = lookup.queryset(provider="stripe", external_id="cus_1")
    with CaptureQueriesContext(connection) as plain:
        list(expected)
    assert len(queries) == 2
    assert queries[0]["sql"] == plain[0]["sql"]
    assert "cus_2" in queries[1]["sql"]
    assert "cus_1" not in queries[1]["sql"]


def test_empty_values_take_the_queryset_django_builds(account: dict[str, Any]) -> None:
    ExternalCustomer.objects.filter(external_id="cus_2").update(external_id="")
    found = customers.CUSTOMER_LINK.first(provider="stripe", external_id="")
    assert found is not None
    assert found.customer == account["customer_2"]
    found = customers.CUSTOMER_LINK.first(provider="stripe", external_id="cus_1")
    assert found is not None
    assert found.customer == account["customer_1"]


def test_wrong_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="takes provider, external_id"):
        customers.CUSTOMER_LINK.first(provider="stripe")
    with pytest.raises(TypeError, match="takes provider, external_id"):
        customers.CUSTOMER_LINK.first(provider="stripe", external_id="cus_1", extra="x")


def test_a_lookup_whose_value_is_not_compared_as_given_is_refused() -> None:
    # icontains wraps the value in wildcards: the placeholder's slot cannot hold another value.
    lookup = PreparedLookup(
        lambda provider, external_id: ExternalCustomer.objects.filter(
            provider=provider, external_id__icontains=external_id
        )
    )
    with pytest.raises(TypeError, match="only exact string lookups can be prepared"):
        lookup.first(provider="stripe", external_id="cus")


def test_a_value_the_queryset_does_not_use_is_refused() -> None:
    lookup = PreparedLookup(
        lambda provider, external_id: ExternalCustomer.objects.filter(provider=provider)
    )
    with pytest.raises(TypeError, match="external_id not found in its SQL"):
        lookup.first(provider="stripe", external_id="cus_1")
