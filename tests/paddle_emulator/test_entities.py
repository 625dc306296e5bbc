"""Every answer of the emulator, parsed by the SDK and compared with Paddle's own fixtures."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from paddle_billing.Entities.Address import Address
from paddle_billing.Entities.Business import Business
from paddle_billing.Entities.Customer import Customer
from paddle_billing.Entities.CustomerPortalSession import CustomerPortalSession
from paddle_billing.Entities.Event import Event
from paddle_billing.Entities.NotificationSetting import NotificationSetting
from paddle_billing.Entities.Price import Price
from paddle_billing.Entities.Product import Product
from paddle_billing.Entities.Subscription import Subscription
from paddle_billing.Entities.Transaction import Transaction
from paddle_billing.Resources.Businesses.Operations import CreateBusiness
from paddle_billing.Resources.CustomerPortalSessions.Operations import (
    CreateCustomerPortalSession,
)

from django_payments_sync.testing.paddle_emulator import PaddleEmulator

from . import helpers
from .conftest import fixture

#: Fields our answers carry beyond the SDK fixture of the same entity, each one present in
#: Paddle's notification fixture for that entity (the fixtures are of different ages).
NEWER_FIELDS = {
    "customer": {"import_meta"},
    "address": {"import_meta"},
    "business": {"import_meta"},
    "product": {"import_meta", "type"},
    "price": {"import_meta", "type"},
    "transaction": {"proration", "import_meta", "type", "underlying_details"},
    "subscription": {"type", "custom_data", "import_meta"},
}


def raw(emulator: PaddleEmulator, path: str) -> dict[str, Any]:
    answer = requests.get(
        emulator.url + path, headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"data", "meta"}
    assert set(body["meta"]) >= {"request_id"}
    return body["data"]


@pytest.fixture
def world(paddle_emulator: PaddleEmulator, client: Any) -> dict[str, Any]:
    """One of everything, made through the SDK (so each answer parsed as an SDK entity)."""
    price = helpers.price(client)
    buyer = helpers.customer(client)
    business = client.businesses.create(
        buyer[0].id, CreateBusiness(name="ACME GmbH", tax_identifier="DE123456789")
    )
    txn = helpers.checkout(client, price.id, buyer=buyer)
    paid = paddle_emulator.pay_transaction(txn.id)
    portal = client.customer_portal_sessions.create(
        buyer[0].id, CreateCustomerPortalSession([paid["subscription_id"]])
    )
    return {
        "customer": buyer[0],
        "address": buyer[1],
        "business": business,
        "product": client.products.get(price.product_id),
        "price": price,
        "transaction": client.transactions.get(txn.id),
        "subscription": client.subscriptions.get(paid["subscription_id"]),
        "portal": portal,
    }


def test_the_sdk_parses_every_answer_into_its_entities(world: dict[str, Any]) -> None:
    classes = {
        "customer": Customer,
        "address": Address,
        "business": Business,
        "product": Product,
        "price": Price,
        "transaction": Transaction,
        "subscription": Subscription,
        "portal": CustomerPortalSession,
    }
    for name, cls in classes.items():
        assert isinstance(world[name], cls), name
    assert world["transaction"].status.value == "completed"
    assert world["subscription"].status.value == "active"
    assert world["subscription"].items[0].price.id == world["price"].id


@pytest.mark.parametrize(
    ("kind", "resource", "path"),
    [
        ("customer", "Customers", "/customers/{customer}"),
        ("address", "Addresses", "/customers/{customer}/addresses/{address}"),
        ("business", "Businesses", "/customers/{customer}/businesses/{business}"),
        ("product", "Products", "/products/{product}"),
        ("price", "Prices", "/prices/{price}"),
        ("transaction", "Transactions", "/transactions/{transaction}"),
        (
            "subscription",
            "Subscriptions",
            "/subscriptions/{subscription}?include=next_transaction,recurring_transaction_details",
        ),
    ],
)
def test_answers_have_the_shape_of_paddles_fixtures(
    paddle_emulator: PaddleEmulator, world: dict[str, Any], kind: str, resource: str, path: str
) -> None:
    ids = {name: entity.id for name, entity in world.items()}
    ours = raw(paddle_emulator, path.format(**ids))
    theirs = fixture(f"Functional/Resources/{resource}/_fixtures/response/full_entity.json")
    differences = helpers.shape_differences(ours, theirs["data"])
    allowed = NEWER_FIELDS[kind]
    assert [d for d in differences if d.rsplit(".", 1)[-1].split(":")[0] not in allowed] == []


def test_lists_have_paddles_pagination_meta(
    paddle_emulator: PaddleEmulator, world: dict[str, Any]
) -> None:
    answer = requests.get(
        paddle_emulator.url + "/customers",
        headers={"Authorization": f"Bearer {paddle_emulator.api_key}"},
        timeout=5,
    ).json()
    theirs = fixture("Functional/Resources/Customers/_fixtures/response/list_default.json")
    assert set(answer["meta"]["pagination"]) == set(theirs["meta"]["pagination"])
    assert helpers.shape_differences(answer["data"], theirs["data"]) == [
        "[0].import_meta: not in Paddle's"
    ]


def test_events_and_notification_settings_parse(
    paddle_emulator: PaddleEmulator, client: Any, world: dict[str, Any]
) -> None:
    events = list(client.events.list())
    assert events
    assert all(isinstance(e, Event) for e in events)
    # Newest first, Paddle's default order: the journey began with the product and its price.
    assert [e.event_type.value for e in events][-2:] == ["price.created", "product.created"]
    setting = paddle_emulator.add_notification_destination("http://127.0.0.1:9/hook")
    parsed = client.notification_settings.get(setting["id"])
    assert isinstance(parsed, NotificationSetting)
    theirs = fixture(
        "Functional/Resources/NotificationSettings/_fixtures/response/full_entity.json"
    )
    ours = raw(paddle_emulator, f"/notification-settings/{setting['id']}")
    assert helpers.shape_differences(ours, theirs["data"]) == []
    theirs = fixture("Functional/Resources/Events/_fixtures/response/list_default.json")
    listed = requests.get(
        paddle_emulator.url + "/events",
        headers={"Authorization": f"Bearer {paddle_emulator.api_key}"},
        timeout=5,
    ).json()
    assert set(listed["data"][0]) == set(theirs["data"][0])
    portal = fixture(
        "Functional/Resources/CustomerPortalSessions/_fixtures/response/full_entity_single.json"
    )
    assert world["portal"].urls.subscriptions[0].id == world["subscription"].id
    assert set(portal["data"]) == {"id", "customer_id", "urls", "created_at"}
