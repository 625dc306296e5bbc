"""Paddle's webhook simulation scenarios (its SDK's configs), played on the emulator.

Each scenario config names a flow and its options; the emulator, driven the way a buyer or the
clock would drive Paddle, emits that scenario's notification types in Paddle's order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from paddle_billing.Entities.Subscriptions import SubscriptionEffectiveFrom
from paddle_billing.Resources.Subscriptions.Operations import (
    CancelSubscription,
    PauseSubscription,
    ResumeSubscription,
)

from django_payments_sync.testing.paddle_emulator import PaddleEmulator

from . import helpers
from .conftest import RESOURCES

CONFIGS = sorted((RESOURCES / "Simulations" / "_fixtures" / "config").glob("*.json"))
DAY = 86400
MONTH = 31 * DAY
PAID = ["transaction.created", "transaction.billed", "transaction.paid", "transaction.completed"]
FAILED = ["transaction.payment_failed", "transaction.past_due", "subscription.past_due"]
RECOVERED = ["transaction.paid", "transaction.completed", "subscription.updated"]


def _is_subsequence(wanted: list[str], got: list[str]) -> bool:
    remaining = iter(got)
    return all(any(t == w for t in remaining) for w in wanted)


@pytest.fixture
def emulator(paddle_emulator: PaddleEmulator) -> Iterator[PaddleEmulator]:
    yield paddle_emulator
    paddle_emulator.dunning_exhausted_action = "subscription_canceled"


def _types(emulator: PaddleEmulator, since: int) -> list[str]:
    return [e["event_type"] for e in emulator.events()][since:]


def _creation(emulator: PaddleEmulator, client: Any, options: dict[str, Any]) -> list[str]:
    price = helpers.price(client)
    how = options["customer_simulated_as"]
    if how == "existing_email_matched":
        helpers.customer(client, "returning@example.com")
    if how == "existing_details_prefilled":
        txn = helpers.checkout(client, price.id, buyer=helpers.customer(client))
    else:
        txn = helpers.checkout(client, price.id)
    since = len(emulator.events())
    page = txn.checkout.url.split("?")[0] + "/pay"
    answer = requests.post(page, data={"email": "returning@example.com", "country_code": "DE"})
    assert answer.status_code == 200, answer.text
    got = _types(emulator, since)
    if how == "existing_details_prefilled":
        assert not [t for t in got if t.startswith(("customer.", "address."))]
        return got
    expected = ["customer.created"] if how == "new" else []
    assert _is_subsequence([*expected, "address.created", "transaction.ready"], got), got
    if how != "new":
        assert "customer.created" not in got
    return got


def _renewal(emulator: PaddleEmulator, client: Any, options: dict[str, Any]) -> list[str]:
    sub = helpers.subscribed(client, emulator, helpers.price(client).id)
    since = len(emulator.events())
    outcome = options["payment_outcome"]
    if outcome == "success":
        emulator.advance_clock(MONTH)
        got = _types(emulator, since)
        assert _is_subsequence(["subscription.updated", *PAID], got), got
        return got
    emulator.set_payment_card(sub.customer_id, declined=True)
    emulator.advance_clock(MONTH)
    got = _types(emulator, since)
    assert _is_subsequence(["transaction.created", *FAILED], got), got
    return got + _after_failure(emulator, client, sub.id, sub.customer_id, options)


def _after_failure(
    emulator: PaddleEmulator, client: Any, sub_id: str, customer_id: str, options: dict[str, Any]
) -> list[str]:
    since = len(emulator.events())
    if options["payment_outcome"] == "failed":
        emulator.advance_clock(8 * DAY)
        got = _types(emulator, since)
        final = options["dunning_exhausted_action"].removeprefix("subscription_")
        assert _is_subsequence(["transaction.canceled", f"subscription.{final}"], got), got
        assert client.subscriptions.get(sub_id).status.value == final
        return got
    emulator.set_payment_card(customer_id, declined=False)
    emulator.advance_clock(DAY + 1)
    got = _types(emulator, since)
    assert _is_subsequence(RECOVERED, got), got
    assert client.subscriptions.get(sub_id).status.value == "active"
    return got


def _pause(emulator: PaddleEmulator, client: Any, options: dict[str, Any]) -> list[str]:
    sub = helpers.subscribed(client, emulator, helpers.price(client).id)
    since = len(emulator.events())
    effective = SubscriptionEffectiveFrom(options["effective_from"])
    client.subscriptions.pause(sub.id, PauseSubscription(effective_from=effective))
    emulator.advance_clock(MONTH)
    got = _types(emulator, since)
    assert _is_subsequence(["subscription.updated", "subscription.paused"], got), got
    assert "transaction.created" not in got  # a paused subscription is not renewed
    return got


def _resume(emulator: PaddleEmulator, client: Any, options: dict[str, Any]) -> list[str]:
    sub = helpers.subscribed(client, emulator, helpers.price(client).id)
    immediately = PauseSubscription(effective_from=SubscriptionEffectiveFrom.Immediately)
    client.subscriptions.pause(sub.id, immediately)
    since = len(emulator.events())
    if options["payment_outcome"] != "success":
        emulator.set_payment_card(sub.customer_id, declined=True)
    if options.get("dunning_exhausted_action"):
        emulator.dunning_exhausted_action = options["dunning_exhausted_action"]
    client.subscriptions.resume(sub.id, ResumeSubscription())
    got = _types(emulator, since)
    if options["payment_outcome"] == "success":
        assert _is_subsequence(["subscription.resumed", *PAID], got), got
        return got
    assert _is_subsequence(["subscription.resumed", "transaction.created", *FAILED], got), got
    return got + _after_failure(emulator, client, sub.id, sub.customer_id, options)


def _cancel(emulator: PaddleEmulator, client: Any, options: dict[str, Any]) -> list[str]:
    sub = helpers.subscribed(client, emulator, helpers.price(client).id)
    since = len(emulator.events())
    effective = SubscriptionEffectiveFrom(options["effective_from"])
    client.subscriptions.cancel(sub.id, CancelSubscription(effective_from=effective))
    assert client.subscriptions.get(sub.id).status.value == "active"
    emulator.advance_clock(MONTH)
    got = _types(emulator, since)
    assert _is_subsequence(["subscription.updated", "subscription.canceled"], got), got
    assert "transaction.created" not in got
    return got


FLOWS = {
    "subscription_creation": _creation,
    "subscription_renewal": _renewal,
    "subscription_pause": _pause,
    "subscription_resume": _resume,
    "subscription_cancellation": _cancel,
}


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_paddles_simulation_scenarios(emulator: PaddleEmulator, client: Any, config: Any) -> None:
    [(scenario, body)] = json.loads(config.read_text()).items()
    got = FLOWS[scenario](emulator, client, body["options"])
    assert got
