"""Refunds with the in-memory provider: in full and in part, refused ones, provider failures,
refunds made at the provider, events out of order and twice, the signal and the mail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from django_payments_sync import signals
from django_payments_sync.backends.types import EventKind, RefundData
from django_payments_sync.exceptions import (
    PermanentProviderError,
    PolicyViolation,
    TransientProviderError,
)
from django_payments_sync.interactor import payments
from django_payments_sync.models import (
    Order,
    PaymentAttemptStatus,
    Refund,
    RefundStatus,
    WebhookEventStatus,
)
from tests.checkout.conftest import CHECKOUT_URL, deliver
from tests.money.conftest import state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def refunded() -> Iterator[list[dict[str, Any]]]:
    got: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        got.append(kwargs)

    signals.order_refunded.connect(receiver)
    yield got
    signals.order_refunded.disconnect(receiver)


def test_a_partial_then_the_rest(paid: Order, locmem: Any, refunded: list[Any]) -> None:
    first = payments.refund_order(paid, 1900, reason="requested_by_customer")

    assert (first.status, first.amount, first.external_id[:3]) == ("succeeded", 1900, "re_")
    assert state(paid) == ("partially_refunded", 1900, "partially_refunded", 1900)
    statuses = deliver(locmem, twice=True)
    assert WebhookEventStatus.FAILED not in statuses
    assert state(paid) == ("partially_refunded", 1900, "partially_refunded", 1900)
    assert Refund.objects.count() == 1
    assert payments.refunds.refundable_amount(paid) == 8000

    rest = payments.refund_order(paid)
    deliver(locmem, shuffle=True)

    assert rest.amount == 8000
    assert state(paid) == ("refunded", 9900, "refunded", 9900)
    assert [(r["amount"], r["fully_refunded"]) for r in refunded] == [(1900, False), (8000, True)]
    assert [m.subject for m in mail.outbox] == [
        "Refund issued: 19.00 EUR",
        "Refund issued: 80.00 EUR",
    ]
    assert f"order #{paid.pk}" in mail.outbox[1].body
    assert "refunded in full" in mail.outbox[1].body
    with pytest.raises(PolicyViolation) as refused:
        payments.refund_order(paid, 1)
    assert refused.value.code == "not_refundable"


@pytest.mark.parametrize("amount", [0, -5, 9901, True])
def test_an_amount_out_of_range_is_refused_and_nothing_is_asked(
    paid: Order, locmem: Any, amount: int
) -> None:
    with pytest.raises(PolicyViolation) as refused:
        payments.refund_order(paid, amount)
    assert refused.value.code == "refund_amount"
    assert "between 1 and 9900" in str(refused.value)
    assert not locmem.calls_to("create_refund")
    assert not Refund.objects.exists()


def test_an_unpaid_order_and_an_unknown_reason_are_refused(
    api: Any, locmem: Any, one_time: Any, paid: Order
) -> None:
    pending = Order.objects.get(
        pk=api.post(CHECKOUT_URL, {"pricing": one_time.pk}).json()["order_id"]
    )
    with pytest.raises(PolicyViolation, match="only a paid order") as refused:
        payments.refund_order(pending)
    assert refused.value.code == "not_refundable"
    with pytest.raises(PolicyViolation) as bad_reason:
        payments.refund_order(paid, reason="because")
    assert bad_reason.value.code == "refund_reason"
    assert not locmem.calls_to("create_refund")


def test_a_refused_refund_is_kept_as_failed(paid: Order, locmem: Any) -> None:
    locmem.fail_next("create_refund", PermanentProviderError("Card closed.", code="x"))
    with pytest.raises(PermanentProviderError):
        payments.refund_order(paid, 500)
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.FAILED
    assert state(paid) == ("paid", 0, "succeeded", 0)
    # Nothing is held back: the whole amount is refundable again.
    assert payments.refunds.refundable_amount(paid) == 9900


def test_a_lost_answer_is_completed_by_the_event(paid: Order, locmem: Any) -> None:
    """The provider made the refund but its answer never came: its event finds the row."""
    real_create = locmem.create_refund

    def create_then_lose(data: RefundData, *, idempotency_key: str) -> Any:
        real_create(data, idempotency_key=idempotency_key)
        raise TransientProviderError("Timed out.")

    locmem.create_refund = create_then_lose
    try:
        with pytest.raises(TransientProviderError):
            payments.refund_order(paid, 700)
    finally:
        del locmem.create_refund
    refund = Refund.objects.get()
    assert (refund.status, refund.external_id) == (RefundStatus.REQUESTED, None)
    # Held back while its outcome is not known.
    assert payments.refunds.refundable_amount(paid) == 9200
    deliver(locmem)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.external_id is not None
    assert Refund.objects.count() == 1
    assert state(paid) == ("partially_refunded", 700, "partially_refunded", 700)


def test_a_refund_that_fails_later_is_given_back(
    paid: Order, locmem: Any, refunded: list[Any]
) -> None:
    refund = payments.refund_order(paid)
    assert state(paid)[0] == "refunded"
    locmem.fail_refund(refund.external_id)
    events = locmem.pop_events()
    # The failure first, then the older creation: the status never goes back.
    for event in reversed(events):
        body, headers = locmem.signed_request(event)
        payments.handle_webhook(body, headers)
    refund.refresh_from_db()
    assert (refund.status, refund.failure_reason) == ("failed", "lost_or_stolen_card")
    assert state(paid) == ("paid", 0, "succeeded", 0)
    assert len(refunded) == 1
    assert payments.refunds.refundable_amount(paid) == 9900


def test_a_refund_made_at_the_provider_is_recorded(paid: Order, locmem: Any) -> None:
    attempt = paid.payment_attempts.get()
    locmem.create_refund(
        RefundData(payment_id=attempt.payment_external_id, amount=2500), idempotency_key="dash"
    )
    kinds = [e.kind for e in locmem.events]
    assert kinds == [EventKind.REFUND_CREATED, EventKind.PAYMENT_REFUNDED]
    # Only the payment's event arrives: the refunds it lists are enough.
    payment_event = locmem.pop_events()[1]
    body, headers = locmem.signed_request(payment_event)
    assert payments.handle_webhook(body, headers).status == WebhookEventStatus.PROCESSED
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.payment_attempt_id) == (
        2500,
        "succeeded",
        attempt.pk,
    )
    assert state(paid) == ("partially_refunded", 2500, "partially_refunded", 2500)


def test_a_redelivered_completion_does_not_undo_a_refund(
    api: Any, locmem: Any, one_time: Any
) -> None:
    session = api.post(CHECKOUT_URL, {"pricing": one_time.pk}).json()
    locmem.complete_checkout(session["id"])
    completion = next(e for e in locmem.pop_events() if e.kind is EventKind.CHECKOUT_COMPLETED)
    body, headers = locmem.signed_request(completion)
    payments.handle_webhook(body, headers)
    order = Order.objects.get(pk=session["order_id"])
    payments.refund_order(order, 100)
    from django_payments_sync.webhooks.processing import replay_event

    replay = replay_event(completion.id, provider="locmem")
    assert replay.status == WebhookEventStatus.PROCESSED
    assert state(order) == ("partially_refunded", 100, "partially_refunded", 100)


def test_a_backend_without_refunds_refuses_clearly(paid: Order) -> None:
    from django_payments_sync.backends.base import BaseBackend
    from django_payments_sync.exceptions import UnsupportedOperation

    with pytest.raises(UnsupportedOperation, match="does not support refunds"):
        BaseBackend().create_refund(RefundData(payment_id="x"), idempotency_key="k")
    assert PaymentAttemptStatus.REFUNDED == "refunded"
