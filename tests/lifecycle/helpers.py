"""What the lifecycle tests share: a subscribed customer on the in-memory provider."""

from __future__ import annotations

from typing import Any

from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.models import ExternalSubscription, Subscription
from tests.checkout.conftest import SUBSCRIPTIONS_URL, deliver


def subscribe(api: Any, locmem: LocmemBackend, pricing: Any, quantity: int = 1) -> Subscription:
    """Subscribe through the API and apply the provider's events."""
    created = api.post(SUBSCRIPTIONS_URL, {"pricing": pricing.pk, "quantity": quantity})
    assert created.status_code == 201, created.content
    assert set(deliver(locmem)) <= {"processed", "ignored"}
    return Subscription.objects.get(pk=created.json()["id"])


def remote_id(subscription: Subscription) -> str:
    return ExternalSubscription.objects.get(subscription=subscription).external_id


class Received:
    """Records what a signal sends (a receiver connected for one test)."""

    def __init__(self, signal: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.signal = signal
        signal.connect(self.receive, weak=False)

    def receive(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def disconnect(self) -> None:
        self.signal.disconnect(self.receive)
