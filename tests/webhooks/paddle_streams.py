"""A realistic Paddle notification stream over many customers (the benchmark's and the
ordering tests'), made of Paddle's own fixture entities with the stream's ids and values."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from functools import cache
from pathlib import Path
from typing import Any

from django_payments_sync.models import Customer, ExternalCustomer, ExternalPricing
from tests.factories import CustomerFactory, PricingFactory, UserFactory
from tests.webhooks.streams import World

ENTITIES = Path(__file__).parents[1] / "backends" / "paddle_fixtures" / "notification" / "entity"
PRICE = "pri_01hv0vax6rv18t4tamj848ne4d"
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
STATUSES = ("trialing", "active", "past_due", "paused", "active")


@cache
def _fixture(event_type: str) -> dict[str, Any]:
    return json.loads((ENTITIES / f"{event_type}.json").read_text())  # type: ignore[no-any-return]


def entity(event_type: str, **values: Any) -> dict[str, Any]:
    data = copy.deepcopy(_fixture(event_type))
    data.update(values)
    return data


def paddle_id(prefix: str, n: int) -> str:
    return f"{prefix}_{n:026d}"


def notification(event_type: str, data: dict[str, Any], at: dt.datetime, n: int) -> dict[str, Any]:
    stamp = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {
        "event_id": paddle_id("evt", n),
        "event_type": event_type,
        "occurred_at": stamp,
        "notification_id": paddle_id("ntf", n),
        "data": data,
    }


def make_paddle_world(customers: int) -> World:
    """Local rows: a third linked to their Paddle customer, a third found by ``custom_data``,
    a third made by their checkout."""
    pricing = PricingFactory(product__name="Plan P")
    ExternalPricing.objects.create(provider="paddle", external_id=PRICE, pricing=pricing)
    world = World()
    for i in range(customers):
        kind = ("linked", "metadata", "checkout")[i % 3]
        if kind == "checkout":
            continue
        owner = UserFactory(username=f"u{i}", email=f"c{i}@example.com")
        customer = Customer.objects.filter(owner=owner).first() or CustomerFactory(
            owner=owner, email=owner.email, name=f"C{i}"
        )
        if kind == "linked":
            ExternalCustomer.objects.create(
                provider="paddle", external_id=paddle_id("ctm", i), customer=customer
            )
        world.local_ids[paddle_id("ctm", i)] = customer.pk
    return world


def _subscription(sub: str, cus: str, status: str, quantity: int, at: str) -> dict[str, Any]:
    data = entity("subscription.updated", id=sub, customer_id=cus, status=status, updated_at=at)
    data["items"] = [copy.deepcopy(data["items"][0])]
    data["items"][0].update(quantity=quantity, status=status)
    data["items"][0]["price"]["id"] = PRICE
    data["canceled_at"] = at if status == "canceled" else None
    return data


def build_paddle_stream(
    world: World, customers: int, updates: int, seed: int
) -> list[dict[str, Any]]:
    """Notifications of ``customers`` customers in Paddle's order (``occurred_at``), each a
    few microseconds to seconds after the one before it."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    n = 0

    # Event ids in no particular order: only the times may order the stream.
    ids = rng.sample(range(10**9), customers * (updates + 8))

    def add(event_type: str, data: dict[str, Any], at: dt.datetime) -> None:
        nonlocal n
        n += 1
        events.append(notification(event_type, data, at, ids[n]))

    for i in range(customers):
        kind = ("linked", "metadata", "checkout")[i % 3]
        cus, sub, email = paddle_id("ctm", i), paddle_id("sub", i), f"c{i}@example.com"
        t = T0 + dt.timedelta(seconds=rng.randint(0, 60), microseconds=rng.randint(0, 999_999))

        def tick(most: float = 0.0005) -> dt.datetime:
            nonlocal t
            t += dt.timedelta(seconds=rng.uniform(0.000001, most))
            return t

        if kind != "linked":
            custom = {"payments_sync_id": str(world.local_ids[cus])} if kind == "metadata" else None
            add(
                "customer.created",
                entity("customer.created", id=cus, email=email, custom_data=custom),
                tick(),
            )
        stamp = tick(1).isoformat()
        add(
            "customer.updated",
            entity("customer.updated", id=cus, email=email, name=f"N{i}", updated_at=stamp),
            t,
        )
        add("subscription.created", _subscription(sub, cus, "active", 1, stamp), tick())
        renewal = entity(
            "transaction.paid",
            id=paddle_id("txn", i),
            customer_id=cus,
            subscription_id=sub,
            origin="subscription_recurring",
        )
        add("transaction.paid", renewal, tick())
        add("subscription.activated", _subscription(sub, cus, "active", 1, t.isoformat()), tick())
        if kind == "checkout":
            paid = entity(
                "transaction.completed",
                id=paddle_id("txn", 10**6 + i),
                customer_id=cus,
                subscription_id=sub,
                origin="web",
                custom_data={"payments_sync_customer_email": email},
            )
            add("transaction.completed", paid, tick())
        for _ in range(updates):
            tick(5)
            status = rng.choice(STATUSES)
            add(
                "subscription.updated",
                _subscription(sub, cus, status, rng.randint(1, 9), t.isoformat()),
                t,
            )
        if rng.random() < 0.3:
            tick(1)
            add("subscription.canceled", _subscription(sub, cus, "canceled", 1, t.isoformat()), t)
    return sorted(events, key=lambda e: (e["occurred_at"], e["event_id"]))
