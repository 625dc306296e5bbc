"""Property-based fuzzing: webhook payloads of any shape, correctly signed, never answer a 5xx or
store a row they were refused for; every API serializer takes any JSON without raising."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.request import Request

from django_payments_sync.api import billing, checkout, plans, subscriptions
from django_payments_sync.backends.stripe.events import STRIPE_EVENT_KINDS
from django_payments_sync.models import Customer, Subscription, WebhookEvent
from django_payments_sync.testing.webhooks import (
    sign_stripe_payload,
    stripe_checkout_session,
    stripe_customer,
    stripe_event,
    stripe_invoice,
    stripe_price,
    stripe_product,
    stripe_subscription,
    stripe_tax_id,
)
from tests.webhooks.conftest import SECRET

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Any JSON value, nested a little.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

#: Realistic objects of every kind the handlers read, for the customer and price of the world.
OBJECTS: list[dict[str, Any]] = [
    stripe_customer("cus_F", email="f@example.com", name="F"),
    stripe_subscription("sub_F", customer="cus_F", price="price_F", status="active"),
    stripe_invoice("in_F", customer="cus_F", subscription="sub_F"),
    stripe_checkout_session("cs_F", customer="cus_F", email="f@example.com", subscription="sub_F"),
    stripe_price("price_F", product="prod_F"),
    stripe_product("prod_F"),
    stripe_tax_id("txi_F", customer="cus_F", value="FR40303265045"),
]


@st.composite
def mutated(draw: Any, base: Any, depth: int = 0) -> Any:
    """``base`` with some values (at any depth) replaced by JSON of another type."""
    if isinstance(base, dict) and base and depth < 4:
        out = dict(base)
        for key in draw(st.lists(st.sampled_from(sorted(out)), max_size=3, unique=True)):
            out[key] = draw(st.one_of(JSON, mutated(out[key], depth + 1)))
        if draw(st.booleans()):
            out.pop(draw(st.sampled_from(sorted(out))), None)
        return out
    if isinstance(base, list) and base and depth < 4:
        return [draw(mutated(item, depth + 1)) for item in base]
    return draw(st.one_of(st.just(base), JSON))


@st.composite
def events(draw: Any) -> dict[str, Any]:
    event_type = draw(st.sampled_from([*sorted(STRIPE_EVENT_KINDS), "radar.unknown", ""]))
    obj = draw(mutated(draw(st.sampled_from(OBJECTS))))
    event = stripe_event(event_type, obj if isinstance(obj, dict) else {"object": obj})
    return draw(mutated(event)) if draw(st.booleans()) else event


@pytest.fixture
def world(linked_customer: Callable[..., Customer], linked_pricing: Callable[..., Any]) -> None:
    customer = linked_customer("cus_F", email="f@example.com")
    pricing = linked_pricing("price_F")
    sub = Subscription.objects.create(customer=customer, pricing=pricing, status="active")
    sub.external_subscriptions.create(provider="stripe", external_id="sub_F")


@FUZZ
@given(payload=events())
def test_any_signed_webhook_shape_answers_cleanly(world: None, payload: Any) -> None:
    client = Client()
    body, headers = sign_stripe_payload(payload, SECRET)
    before = WebhookEvent.objects.count()

    response = client.post(
        "/api/payment/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
    )

    assert response.status_code in (200, 400), (response.status_code, response.content)
    stored = WebhookEvent.objects.count() - before
    assert stored == (1 if response.status_code == 200 and not response.json()["duplicate"] else 0)
    if response.status_code == 200:
        assert response.json()["status"] in ("processed", "ignored", "deferred")


@FUZZ
@given(body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_unsigned_body_is_refused_and_stores_nothing(world: None, body: bytes) -> None:
    response = Client().post(
        "/api/payment/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=" + "0" * 64,
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def api_serializers() -> list[type[serializers.BaseSerializer[Any]]]:
    """Every serializer class the API modules define."""
    found = []
    for module in (billing, checkout, plans, subscriptions):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == module.__name__:
                found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


def test_the_serializer_list_is_complete() -> None:
    names = {c.__name__ for c in api_serializers()}
    assert {"BillingInformationSerializer", "CheckoutRequestSerializer", "PlanSerializer"} <= names
    assert len(names) >= 14


@pytest.mark.parametrize("serializer_class", api_serializers(), ids=lambda c: c.__name__)
def test_every_serializer_takes_any_json(serializer_class: Any, user: Any) -> None:
    request = Request(RequestFactory().post("/", HTTP_HOST="testserver"))
    request.user = user
    field_names = list(serializer_class().fields)

    @FUZZ
    @given(
        data=st.one_of(
            st.fixed_dictionaries({}, optional={name: JSON for name in field_names}),
            JSON,
        )
    )
    def check(data: Any) -> None:
        serializer = serializer_class(data=data, context={"request": request})
        if serializer.is_valid():
            # What validation lets through is of the declared shape.
            assert isinstance(serializer.validated_data, dict)
            for name, value in serializer.validated_data.items():
                if isinstance(serializer.fields.get(name), serializers.CharField):
                    assert isinstance(value, str), (name, value)
        else:
            assert serializer.errors

    check()
