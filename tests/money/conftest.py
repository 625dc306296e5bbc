"""Fixtures of the money-and-access tests: the checkout tests' own (in-memory provider, plans,
logged-in API clients) and a paid one-time order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from django_payments_sync.models import Order, OrderStatus, WebhookEventStatus
from tests.checkout.conftest import (  # noqa: F401 (fixtures)
    CHECKOUT_URL,
    _empty_cache,
    api,
    deliver,
    locmem,
    monthly,
    one_time,
    other_api,
    yearly,
)
from tests.emulated import emulated_site


@pytest.fixture
def paid(api: Any, locmem: Any, one_time: Any) -> Order:  # noqa: F811 (the fixtures above)
    """A paid one-time order of 99.00 EUR."""
    session = api.post(CHECKOUT_URL, {"pricing": one_time.pk}).json()
    locmem.complete_checkout(session["id"])
    assert WebhookEventStatus.FAILED not in deliver(locmem)
    order = Order.objects.get(pk=session["order_id"])
    assert order.status == OrderStatus.PAID
    assert order.payment_attempts.get().payment_external_id.startswith("pay_")
    mail.outbox.clear()
    return order


def state(order: Order) -> tuple[str, int, str, int]:
    order.refresh_from_db()
    attempt = order.payment_attempts.get()
    return order.status, order.amount_refunded, attempt.status, attempt.amount_refunded


@pytest.fixture
def shop(stripe_emulator: Any, live_server: Any) -> Iterator[Any]:
    """The library on a live server, talking to the Stripe emulator, which posts its webhooks
    back; checkouts come back to the live server."""
    with emulated_site(
        stripe_emulator,
        live_server,
        CHECKOUT_SUCCESS_URL=f"{live_server.url}/done/",
        CHECKOUT_CANCEL_URL=f"{live_server.url}/canceled/",
    ):
        mail.outbox.clear()
        yield stripe_emulator
