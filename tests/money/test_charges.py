"""One-off charges: an ad-hoc amount through checkout, or off-session with the saved payment
method; with the in-memory provider (events twice, in any order) and against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from django_payments_sync.exceptions import CardError, PolicyViolation, TransientProviderError
from django_payments_sync.interactor import payments
from django_payments_sync.models import Order, PaymentAttemptStatus, WebhookEventStatus
from tests.checkout.conftest import deliver
from tests.checkout.test_emulator_e2e import press, settle
from tests.emulated import emulated_site

pytestmark = pytest.mark.django_db(transaction=True)


def customer_of(user: Any) -> Any:
    return payments.get_customer(user)


def test_an_off_session_charge_is_paid_once(
    user: Any, locmem: Any, one_time: Any, received_payments: list[Any]
) -> None:
    order = payments.charge_off_session(
        customer_of(user), amount=2500, currency="EUR", description="Extra seats, May"
    )

    assert (order.status, order.amount, order.currency, order.pricing) == (
        "paid",
        2500,
        "eur",
        None,
    )
    attempt = order.payment_attempts.get()
    assert attempt.status == PaymentAttemptStatus.SUCCEEDED
    assert attempt.payment_external_id.startswith("pay_")
    statuses = deliver(locmem, twice=True, shuffle=True)
    assert WebhookEventStatus.FAILED not in statuses
    assert [(p["order"].pk, p["amount"]) for p in received_payments] == [(order.pk, 2500)]
    assert [m.subject for m in mail.outbox] == ["Payment received: 25.00 EUR"]
    # A one-time price charges its amount; a charge is refundable like any paid order.
    priced = payments.charge_off_session(customer_of(user), pricing=one_time, quantity=2)
    assert (priced.amount, priced.description) == (19800, "Setup")
    assert payments.refund_order(priced, 800).amount == 800


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"amount": 0, "currency": "eur", "description": "x"}, "invalid_amount"),
        ({"amount": 100, "currency": "euro", "description": "x"}, "invalid_amount"),
        ({"amount": 100, "currency": "eur", "description": "  "}, "invalid_amount"),
        ({"amount": True, "currency": "eur", "description": "x"}, "invalid_amount"),
        ({"amount": 100, "currency": "eur", "description": "x", "quantity": 0}, "invalid_quantity"),
    ],
)
def test_bad_terms_are_refused_before_anything(
    user: Any, locmem: Any, terms: dict[str, Any], code: str
) -> None:
    with pytest.raises(PolicyViolation) as refused:
        payments.charge_off_session(customer_of(user), **terms)
    assert refused.value.code == code
    assert not Order.objects.exists()
    assert not locmem.calls_to("create_payment")


def test_a_recurring_price_is_not_charged_once(user: Any, locmem: Any, monthly: Any) -> None:
    with pytest.raises(PolicyViolation) as refused:
        payments.charge_off_session(customer_of(user), pricing=monthly)
    assert refused.value.code == "invalid_pricing"


def test_a_declined_card_fails_the_order(
    user: Any, locmem: Any, received_payments: list[Any]
) -> None:
    locmem.fail_next("create_payment", CardError("Your card was declined.", code="card_declined"))
    with pytest.raises(CardError):
        payments.charge_off_session(
            customer_of(user), amount=900, currency="eur", description="Fee"
        )
    order = Order.objects.get()
    assert order.status == "failed"
    assert order.payment_attempts.get().failure_message == "The card was declined."
    assert [p["failure_message"] for p in received_payments] == ["The card was declined."]


def test_a_lost_answer_is_settled_by_the_event(user: Any, locmem: Any) -> None:
    real = locmem.create_payment

    def charge_then_lose(data: Any, *, idempotency_key: str) -> Any:
        real(data, idempotency_key=idempotency_key)
        raise TransientProviderError("Timed out.")

    locmem.create_payment = charge_then_lose
    try:
        with pytest.raises(TransientProviderError):
            payments.charge_off_session(
                customer_of(user), amount=700, currency="eur", description="Fee"
            )
    finally:
        del locmem.create_payment
    order = Order.objects.get()
    assert order.status == "pending"
    deliver(locmem)
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.payment_attempts.get().payment_external_id.startswith("pay_")


def test_an_ad_hoc_checkout(user: Any, locmem: Any, received_payments: list[Any]) -> None:
    session = payments.create_charge_checkout(
        customer_of(user),
        amount=4200,
        currency="eur",
        description="Consulting, 1 hour",
        success_url="http://testserver/done/",
        cancel_url="http://testserver/back/",
    )
    locmem.complete_checkout(session["id"])
    deliver(locmem, twice=True)
    order = Order.objects.get(pk=session["order_id"])
    assert (order.status, order.amount, order.description) == ("paid", 4200, "Consulting, 1 hour")
    assert len(received_payments) == 1
    assert payments.refund_order(order).amount == 4200


@pytest.fixture
def received_payments() -> Iterator[list[dict[str, Any]]]:
    from django_payments_sync import signals

    got: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        got.append(kwargs)

    signals.payment_succeeded.connect(receiver)
    signals.payment_failed.connect(receiver)
    mail.outbox.clear()
    yield got
    signals.payment_succeeded.disconnect(receiver)
    signals.payment_failed.disconnect(receiver)


# --- against the Stripe emulator ------------------------------------------------------------
@pytest.fixture
def shop(stripe_emulator: Any, live_server: Any) -> Iterator[Any]:
    with emulated_site(stripe_emulator, live_server):
        yield stripe_emulator


def saved_card(shop: Any, user: Any, card: str) -> Any:
    customer = customer_of(user)
    from django_payments_sync.interactor.provider import ensure_customer_id

    shop.client().v1.customers.update(
        ensure_customer_id(customer), {"invoice_settings": {"default_payment_method": card}}
    )
    return customer


@pytest.mark.slow
def test_off_session_against_the_emulator(shop: Any, user: Any) -> None:
    customer = saved_card(shop, user, "pm_card_visa")
    order = payments.charge_off_session(customer, amount=1234, currency="eur", description="Fee")
    settle(shop)
    order.refresh_from_db()
    assert order.status == "paid"
    intent = order.payment_attempts.get().payment_external_id
    assert shop.client().v1.payment_intents.retrieve(intent).status == "succeeded"
    assert "payment_intent.succeeded" in [e["type"] for e in shop.events()]
    assert payments.refund_order(order, 234).status == "succeeded"

    declining = saved_card(shop, user, "pm_card_chargeDeclined")
    with pytest.raises(CardError):
        payments.charge_off_session(declining, amount=500, currency="eur", description="Fee")
    settle(shop)
    assert Order.objects.filter(status="failed").count() == 1


@pytest.mark.slow
def test_no_saved_card_is_refused_clearly(shop: Any, user: Any) -> None:
    with pytest.raises(PolicyViolation) as refused:
        payments.charge_off_session(customer_of(user), amount=500, currency="eur", description="x")
    assert refused.value.code == "no_payment_method"
    assert Order.objects.get().status == "failed"


@pytest.mark.slow
def test_an_ad_hoc_checkout_on_the_hosted_page(shop: Any, user: Any, live_server: Any) -> None:
    session = payments.create_charge_checkout(
        customer_of(user),
        amount=4200,
        currency="eur",
        description="Consulting, 1 hour",
        success_url=f"{live_server.url}/done/",
        cancel_url=f"{live_server.url}/back/",
    )
    page = press(session["url"], "pay")
    assert page.status_code in (302, 303)
    settle(shop)
    order = Order.objects.get(pk=session["order_id"])
    assert (order.status, order.amount) == ("paid", 4200)
    assert order.payment_attempts.get().payment_external_id.startswith("pi_")
    lines = shop.client().v1.checkout.sessions.line_items.list(session["id"])
    assert lines.data[0].description == "Consulting, 1 hour"
