"""The request bodies Paddle's SDK sends (its own request fixtures) are accepted as Paddle does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from paddle_billing.Entities.Discounts import DiscountType
from paddle_billing.Entities.Shared import CurrencyCode
from paddle_billing.Entities.Subscriptions import SubscriptionEffectiveFrom
from paddle_billing.Resources.Businesses.Operations import CreateBusiness
from paddle_billing.Resources.Discounts.Operations import CreateDiscount
from paddle_billing.Resources.Subscriptions.Operations import PauseSubscription

from django_payments_sync.testing.paddle_emulator import PaddleEmulator

from . import helpers
from .conftest import RESOURCES

_DATE = re.compile(r"^\d{4}-\d\d-\d\dT")
_ID = re.compile(r"^(ctm|add|biz|pro|pri|sub|txn|dsc)_[a-z\d]{26}$")

#: Each fixture's operation: (method, path), with `{kind}` filled from the world.
OPERATIONS = {
    "Customers/create": ("POST", "/customers"),
    "Customers/update": ("PATCH", "/customers/{ctm}"),
    "Addresses/create": ("POST", "/customers/{ctm}/addresses"),
    "Addresses/update": ("PATCH", "/customers/{ctm}/addresses/{add}"),
    "Businesses/create": ("POST", "/customers/{ctm}/businesses"),
    "Businesses/update": ("PATCH", "/customers/{ctm}/businesses/{biz}"),
    "Products/create": ("POST", "/products"),
    "Products/update": ("PATCH", "/products/{pro}"),
    "Prices/create": ("POST", "/prices"),
    "Prices/update": ("PATCH", "/prices/{pri}"),
    "Transactions/create": ("POST", "/transactions"),
    "Transactions/update": ("PATCH", "/transactions/{open_txn}"),
    "Subscriptions/update": ("PATCH", "/subscriptions/{sub}"),
    "Subscriptions/pause": ("POST", "/subscriptions/{sub}/pause"),
    "Subscriptions/resume": ("POST", "/subscriptions/{paused_sub}/resume"),
    "Subscriptions/cancel": ("POST", "/subscriptions/{sub}/cancel"),
    "CustomerPortalSessions/create": ("POST", "/customers/{ctm}/portal-sessions"),
    "NotificationSettings/create": ("POST", "/notification-settings"),
    "NotificationSettings/update": ("PATCH", "/notification-settings/{ntfset}"),
    "Discounts/create": ("POST", "/discounts"),
    "Discounts/update": ("PATCH", "/discounts/{dsc}"),
}

#: Fixtures of what the emulator does not model, with the clear 4xx it answers instead.
NOT_MODELLED = {
    # Catalog discounts are modelled; an inline (non-catalog) one is refused.
    "Transactions/create_with_noncatalog_discount_full.json": (400, "bad_request"),
    "Transactions/create_with_noncatalog_discount_minimal.json": (400, "bad_request"),
    "Transactions/update_with_noncatalog_discount_full.json": (400, "bad_request"),
    "Transactions/update_with_noncatalog_discount_minimal.json": (400, "bad_request"),
}


def _fixtures() -> list[str]:
    names = []
    for path in sorted(RESOURCES.glob("*/_fixtures/request/*.json")):
        resource = path.parts[-4]
        operation = path.stem.split("_")[0]
        if f"{resource}/{operation}" in OPERATIONS:
            names.append(f"{resource}/{path.name}")
    return names


def _world(emulator: PaddleEmulator, client: Any) -> dict[str, list[str]]:
    first = helpers.price(client)
    second = helpers.price(client, "2000", product_id=first.product_id)
    buyer = helpers.customer(client)
    business = client.businesses.create(buyer[0].id, CreateBusiness(name="ACME"))
    sub = helpers.subscribed(client, emulator, first.id, buyer=buyer)
    paused = helpers.subscribed(client, emulator, first.id, buyer=buyer)
    client.subscriptions.pause(
        paused.id, PauseSubscription(effective_from=SubscriptionEffectiveFrom.Immediately)
    )
    txn = helpers.checkout(client, second.id, buyer=buyer)
    setting = emulator.add_notification_destination("http://127.0.0.1:9/")
    discount = client.discounts.create(
        CreateDiscount(
            amount="10",
            description="Launch",
            type=DiscountType.Percentage,
            enabled_for_checkout=True,
            recur=False,
            currency_code=CurrencyCode.EUR,
        )
    )
    return {
        "ctm": [buyer[0].id],
        "add": [buyer[1].id],
        "biz": [business.id],
        "pro": [first.product_id],
        "pri": [first.id, second.id],
        "sub": [sub.id],
        "paused_sub": [paused.id],
        "txn": [txn.id],
        "open_txn": [txn.id],
        "ntfset": [setting["id"]],
        "dsc": [discount.id],
    }


def _substitute(value: Any, world: dict[str, list[str]], seen: dict[str, str]) -> Any:
    """Paddle's example ids replaced by this emulator's (distinct ids stay distinct), and its
    example dates (from 2023) moved as far into the future."""
    if isinstance(value, dict):
        return {k: _substitute(v, world, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, world, seen) for v in value]
    if isinstance(value, str) and _DATE.match(value):
        return str(int(value[:4]) + 10) + value[4:]
    if isinstance(value, str) and _ID.match(value):
        if value not in seen:
            choices = world[value.split("_", 1)[0]]
            used = sum(1 for k in seen if k.split("_", 1)[0] == value.split("_", 1)[0])
            seen[value] = choices[min(used, len(choices) - 1)]
        return seen[value]
    return value


@pytest.mark.parametrize("name", _fixtures())
def test_the_sdks_request_fixtures_are_accepted(
    paddle_emulator: PaddleEmulator, client: Any, name: str
) -> None:
    resource, filename = name.split("/")
    body = json.loads((RESOURCES / resource / "_fixtures" / "request" / filename).read_text())
    world = _world(paddle_emulator, client)
    body = _substitute(body, world, {})
    method, path = OPERATIONS[f"{resource}/{filename.split('_')[0]}"]
    url = paddle_emulator.url + path.format(**{k: v[0] for k, v in world.items()})
    answer = requests.request(
        method,
        url,
        data=json.dumps(body),
        headers={
            "Authorization": f"Bearer {paddle_emulator.api_key}",
            "Content-Type": "application/json",
        },
        timeout=5,
    )
    if name in NOT_MODELLED:
        status, code = NOT_MODELLED[name]
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
        return
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"data", "meta"}
