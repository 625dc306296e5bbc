"""Realistic event streams over many customers, for the concurrency test and the benchmark."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from django_payments_sync.backends.stripe.events import stripe_event_kind
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.testing.webhooks import (
    stripe_checkout_session,
    stripe_customer,
    stripe_event,
    stripe_invoice,
    stripe_subscription,
)
from tests.factories import CustomerFactory, PricingFactory, UserFactory

T0 = 1_760_000_000
STATUSES = ("trialing", "active", "past_due", "unpaid", "paused", "active")


@dataclass
class World:
    """Local rows the stream refers to: customers linked before, or by metadata."""

    local_ids: dict[str, int] = field(default_factory=dict)


def make_world(customers: int) -> World:
    pricing = PricingFactory(product__name="Plan P")
    ExternalPricing.objects.create(provider="stripe", external_id="price_P", pricing=pricing)
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
                provider="stripe", external_id=f"cus_{i:05d}", customer=customer
            )
        world.local_ids[f"cus_{i:05d}"] = customer.pk
    return world


def build_stream(world: World, customers: int, updates: int, seed: int) -> list[dict[str, Any]]:
    """Events of ``customers`` customers in provider order (time, type rank, id)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for i in range(customers):
        kind = ("linked", "metadata", "checkout")[i % 3]
        cus, sub, email = f"cus_{i:05d}", f"sub_{i:05d}", f"c{i}@example.com"
        t = T0 + rng.randint(0, 60)
        if kind != "linked":
            local = {"local_id": str(world.local_ids[cus])} if kind == "metadata" else {}
            events.append(
                stripe_event(
                    "customer.created", stripe_customer(cus, email=email, **local), created=t
                )
            )
        t += 1
        events.append(
            stripe_event(
                "customer.updated", stripe_customer(cus, email=email, name=f"N{i}"), created=t
            )
        )

        def snap(
            status: str, quantity: int = 1, sub: str = sub, cus: str = cus, **extra: Any
        ) -> dict[str, Any]:
            return stripe_subscription(
                sub, customer=cus, price="price_P", status=status, quantity=quantity, **extra
            )

        events.append(stripe_event("customer.subscription.created", snap("incomplete"), created=t))
        invoice = stripe_invoice(f"in_{i:05d}", customer=cus, subscription=sub)
        events.append(stripe_event("invoice.paid", invoice, created=t))
        events.append(stripe_event("invoice.payment_succeeded", invoice, created=t))
        events.append(stripe_event("customer.subscription.updated", snap("active"), created=t))
        if kind == "checkout":
            session = stripe_checkout_session(
                f"cs_test_{i:05d}", customer=cus, email=email, subscription=sub
            )
            events.append(stripe_event("checkout.session.completed", session, created=t))
        for _ in range(updates):
            t += rng.randint(1, 5)
            status = rng.choice(STATUSES)
            events.append(
                stripe_event(
                    "customer.subscription.updated", snap(status, rng.randint(1, 9)), created=t
                )
            )
        if rng.random() < 0.3:
            t += 1
            events.append(
                stripe_event(
                    "customer.subscription.deleted", snap("canceled", ended_at=t), created=t
                )
            )
    return sorted(events, key=lambda e: (e["created"], stripe_event_kind(e["type"]).rank, e["id"]))


def shuffled_with_duplicates(
    events: list[dict[str, Any]], seed: int, copies: int = 2
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    stream = [e for e in events for _ in range(copies)]
    rng.shuffle(stream)
    return stream


def read_state() -> dict[str, Any]:
    """The local state a stream produced, in a comparable form."""
    return {
        "users": sorted(get_user_model().objects.values_list("email", flat=True)),
        "customers": sorted(
            (c.email, c.name, tuple(c.external_customers.values_list("external_id", flat=True)))
            for c in Customer.objects.prefetch_related("external_customers")
        ),
        "subscriptions": sorted(
            (
                s.external_subscriptions.get().external_id,
                s.customer.email,
                s.status,
                s.quantity,
                s.ended_at,
            )
            for s in Subscription.objects.select_related("customer")
        ),
        "events": sorted(WebhookEvent.objects.values_list("event_id", "status")),
    }
