"""The Paddle endpoint, through Django: verification, exactly once, ordering and deferral on
Paddle's notifications (Paddle's fixture entities, signed as Paddle signs)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from django_payments_sync.backends.paddle.events import signature_header
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ProviderDeletion,
    Subscription,
    WebhookEvent,
)
from tests.factories import CustomerFactory, PricingFactory

pytestmark = pytest.mark.django_db

SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_payments_sync_endpoint_tests"
ENTITIES = Path(__file__).parents[1] / "backends" / "paddle_fixtures" / "notification" / "entity"
CUSTOMER = "ctm_01hv6y1jedq4p1n0yqn5ba3ky4"
PRICE = "pri_01hv0vax6rv18t4tamj848ne4d"
SUB = "sub_01hv8x29kz0t586xy6zn1a62ny"


@pytest.fixture(autouse=True)
def paddle_site(settings: Any) -> None:
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "BACKEND": "django_payments_sync.backends.paddle.PaddleBackend",
        # Nothing here calls Paddle: an address where nothing listens.
        "OPTIONS": {
            "api_key": "pdl_sdbx_tests",
            "api_base": "http://127.0.0.1:9",
            "webhook_secret": SECRET,
            "max_retries": 0,
        },
        "AUTO_SYNC": False,
    }


_ids = iter(range(10**6))


def note(event_type: str, data: dict[str, Any], at: str, event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or f"evt_01hv8x2a5kw3fm5e0hkpv{next(_ids):05d}",
        "event_type": event_type,
        "occurred_at": at,
        "notification_id": f"ntf_{next(_ids)}",
        "data": data,
    }


def entity(event_type: str, **changes: Any) -> dict[str, Any]:
    data = json.loads((ENTITIES / f"{event_type}.json").read_text())
    data.update(changes)
    return data


def post(client: Client, payload: dict[str, Any], *, secret: str = SECRET) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        reverse("payments_sync:paddle-webhook"),
        data=body,
        content_type="application/json",
        headers={"Paddle-Signature": signature_header(body, [secret])},
    )


def status_of(payload: dict[str, Any]) -> str:
    return WebhookEvent.objects.get(provider="paddle", event_id=payload["event_id"]).status


def local_customer() -> Customer:
    return CustomerFactory(email="jo@example.com")


def customer_created(local: Customer, at: str = "2024-04-11T15:57:24.900001Z") -> dict:
    data = entity("customer.created", custom_data={"payments_sync_id": str(local.pk)})
    return note("customer.created", data, at)


def test_verified_stored_applied_and_a_duplicate_changes_nothing(client: Client) -> None:
    local = local_customer()
    payload = customer_created(local)
    response = post(client, payload)
    assert response.status_code == 200, response.content
    row = WebhookEvent.objects.get()
    assert (row.provider, row.type, row.ordering_key, row.status) == (
        "paddle",
        "customer.created",
        f"customer:{CUSTOMER}",
        "processed",
    )
    assert row.provider_created_at.microsecond == 900001
    assert ExternalCustomer.objects.get(provider="paddle").external_id == CUSTOMER
    # Paddle delivers again (another notification id, the same event): stored once.
    again = {**payload, "notification_id": "ntf_other"}
    response = post(client, again)
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1


def test_wrong_secret_or_tampering_answers_400_and_stores_nothing(client: Client) -> None:
    payload = customer_created(local_customer())
    assert post(client, payload, secret="pdl_ntfset_wrong").status_code == 400
    body = json.dumps(payload).encode()
    response = client.post(
        reverse("payments_sync:paddle-webhook"),
        data=body.replace(b"jo@example.com", b"eve@example.com"),
        content_type="application/json",
        headers={"Paddle-Signature": signature_header(body, [SECRET])},
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_each_route_serves_its_provider_only(client: Client, settings: Any) -> None:
    payload = customer_created(local_customer())
    stripe = client.post(
        reverse("payments_sync:stripe-webhook"), data=b"{}", content_type="application/json"
    )
    assert stripe.status_code == 404
    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "BACKEND": ("django_payments_sync.backends.stripe.StripeBackend"),
        "OPTIONS": {"api_key": "sk_test_x"},
    }
    assert post(client, payload).status_code == 404
    assert not WebhookEvent.objects.exists()


def test_a_subscription_before_its_customer_waits_then_applies(client: Client) -> None:
    local = local_customer()
    pricing = PricingFactory()
    ExternalPricing.objects.create(provider="paddle", external_id=PRICE, pricing=pricing)
    created = note(
        "subscription.created", entity("subscription.trialing"), "2024-04-12T11:30:29.700000Z"
    )
    post(client, created)
    assert status_of(created) == "deferred"
    assert not Subscription.objects.exists()
    post(client, customer_created(local))
    assert status_of(created) == "processed"
    sub = Subscription.objects.get()
    assert (sub.customer, sub.pricing, sub.status, sub.quantity) == (local, pricing, "trialing", 10)


def subscription_story() -> list[dict[str, Any]]:
    """created (trialing) -> activated -> updated (quantity 12, a scheduled cancel) ->
    canceled, microseconds apart as Paddle sends them."""
    trialing = entity("subscription.trialing", id=SUB)
    active = copy.deepcopy(trialing) | {"status": "active"}
    active["items"][0]["status"] = "active"
    changed = copy.deepcopy(active)
    changed["items"][0]["quantity"] = 12
    changed["scheduled_change"] = {
        "action": "cancel",
        "effective_at": "2024-05-12T11:30:29Z",
        "resume_at": None,
    }
    canceled = copy.deepcopy(changed) | {
        "status": "canceled",
        "scheduled_change": None,
        "canceled_at": "2024-04-12T11:30:29.900003Z",
    }
    return [
        note("subscription.created", trialing, "2024-04-12T11:30:29.900000Z"),
        note("subscription.activated", active, "2024-04-12T11:30:29.900001Z"),
        note("subscription.updated", changed, "2024-04-12T11:30:29.900002Z"),
        note("subscription.canceled", canceled, "2024-04-12T11:30:29.900003Z"),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_shuffled_and_duplicated_deliveries_end_in_the_newest_state(
    client: Client, seed: int
) -> None:
    local = local_customer()
    ExternalCustomer.objects.create(provider="paddle", external_id=CUSTOMER, customer=local)
    ExternalPricing.objects.create(provider="paddle", external_id=PRICE, pricing=PricingFactory())
    story = subscription_story()
    deliveries = story + random.Random(seed).sample(story, 2)
    random.Random(seed).shuffle(deliveries)
    for payload in deliveries:
        assert post(client, payload).status_code == 200
    assert WebhookEvent.objects.count() == len(story)
    sub = Subscription.objects.get()
    assert (sub.status, sub.quantity) == ("canceled", 12)
    assert sub.canceled_at is not None


def test_changes_microseconds_apart_keep_their_order(client: Client) -> None:
    local = local_customer()
    ExternalCustomer.objects.create(provider="paddle", external_id=CUSTOMER, customer=local)
    ExternalPricing.objects.create(provider="paddle", external_id=PRICE, pricing=PricingFactory())
    created, activated, updated, _ = subscription_story()
    for payload in (created, updated, activated):  # the activation arrives last
        post(client, payload)
    sub = Subscription.objects.get()
    # A microsecond apart: the activation, arriving last, is older than the change.
    assert (sub.status, sub.quantity, sub.cancel_at_period_end) == ("active", 12, True)


def test_an_archived_customer_is_a_deletion_that_sticks(client: Client) -> None:
    local = local_customer()
    post(client, customer_created(local))
    archived = entity(
        "customer.updated", status="archived", custom_data={"payments_sync_id": str(local.pk)}
    )
    post(client, note("customer.updated", archived, "2024-04-11T16:00:00.000001Z"))
    assert ProviderDeletion.objects.filter(
        provider="paddle", object_type="customer", external_id=CUSTOMER
    ).exists()
    local.refresh_from_db()
    assert local.sync_status == "failed"


def expected_subscriptions(stream: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """Each subscription's last state in Paddle's order: what the local row must end as."""
    last: dict[str, tuple[str, int]] = {}
    for event in stream:
        if event["event_type"].startswith("subscription."):
            data = event["data"]
            last[data["id"]] = (data["status"], data["items"][0]["quantity"])
    return last


@pytest.mark.parametrize("seed", [1, 2])
def test_a_stream_shuffled_and_duplicated_ends_as_paddle_ordered_it(
    client: Client, seed: int
) -> None:
    from tests.webhooks.paddle_streams import build_paddle_stream, make_paddle_world
    from tests.webhooks.streams import shuffled_with_duplicates

    world = make_paddle_world(12)
    stream = build_paddle_stream(world, 12, updates=4, seed=seed)
    for payload in shuffled_with_duplicates(stream, seed=seed):
        assert post(client, payload).status_code == 200
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert len(statuses) == len(stream)
    assert set(statuses.values()) <= {"processed", "ignored"}, statuses
    local = {
        s.external_subscriptions.get().external_id: (s.status, s.quantity)
        for s in Subscription.objects.all()
    }
    assert local == expected_subscriptions(stream)
    # Every Paddle customer has one local customer; the checkout's made its user.
    assert ExternalCustomer.objects.filter(provider="paddle").count() == 12
    assert Customer.objects.filter(email="c2@example.com").count() == 1
