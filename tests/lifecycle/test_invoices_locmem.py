"""Invoices, failed payments and their retries, and payments that need the customer, with the
in-memory provider: the local Invoice record, the API, the mails and the signals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from django_payments_sync import signals
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.models import Invoice, Subscription
from tests.checkout.conftest import SUBSCRIPTIONS_URL, deliver, subscription_url
from tests.lifecycle.helpers import Received, remote_id, subscribe

pytestmark = pytest.mark.django_db(transaction=True)
INVOICES_URL = "/api/payment/invoices/"


@pytest.fixture
def recovered() -> Iterator[Received]:
    received = Received(signals.payment_recovered)
    yield received
    received.disconnect()


@pytest.fixture
def action_required() -> Iterator[Received]:
    received = Received(signals.payment_action_required)
    yield received
    received.disconnect()


def test_a_paid_renewal_is_recorded_listed_and_mailed_with_its_pdf(
    api: Any, other_api: Any, locmem: LocmemBackend, monthly: Any, user: Any
) -> None:
    sub = subscribe(api, locmem, monthly, quantity=2)
    mail.outbox.clear()
    invoice = locmem.renew(remote_id(sub), outcome="paid")
    # Delivered twice and out of order: one record, one mail.
    assert set(deliver(locmem, shuffle=True, twice=True)) <= {"processed", "ignored", "duplicate"}

    row = Invoice.objects.get()
    assert (row.external_id, row.number, row.status) == (invoice.id, "LOCMEM-0001", "paid")
    assert (row.customer, row.subscription) == (sub.customer, sub)
    assert (row.total, row.amount_paid, row.amount_remaining, row.currency) == (
        3000,
        3000,
        0,
        "eur",
    )
    assert row.invoice_pdf == invoice.invoice_pdf
    assert row.period_end == invoice.period_end
    receipts = [m for m in mail.outbox if m.subject == "Payment received: 30.00 EUR"]
    assert len(receipts) == 1
    assert receipts[0].to == [user.email]
    assert "Invoice LOCMEM-0001" in receipts[0].body
    assert invoice.invoice_pdf in receipts[0].body
    html = receipts[0].alternatives[0][0]
    assert f'href="{invoice.invoice_pdf}"' in html

    listed = api.get(INVOICES_URL)
    assert listed.status_code == 200
    assert [(i["id"], i["number"], i["status"], i["total"]) for i in listed.json()] == [
        (row.pk, "LOCMEM-0001", "paid", 3000)
    ]
    detail = api.get(f"{INVOICES_URL}{row.pk}/").json()
    assert detail["invoice_pdf"] == invoice.invoice_pdf
    assert detail["hosted_invoice_url"] == invoice.hosted_invoice_url
    assert detail["subscription"] == sub.pk
    # Another customer sees none of it, and cannot tell the id from a missing one.
    assert other_api.get(INVOICES_URL).json() == []
    theirs = other_api.get(f"{INVOICES_URL}{row.pk}/")
    missing = other_api.get(f"{INVOICES_URL}{row.pk + 100}/")
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())
    assert theirs.status_code == 404


def test_invoices_are_listed_newest_first_in_constant_queries(
    api: Any, locmem: LocmemBackend, monthly: Any, django_assert_num_queries: Any
) -> None:
    sub = subscribe(api, locmem, monthly)
    for _ in range(3):
        locmem.renew(remote_id(sub), outcome="paid")
        deliver(locmem)
    numbers = [i["number"] for i in api.get(INVOICES_URL).json()]
    assert numbers == ["LOCMEM-0003", "LOCMEM-0002", "LOCMEM-0001"]
    # Session, user, customer, invoices: the same for one invoice or many.
    with django_assert_num_queries(4):
        assert len(api.get(INVOICES_URL).json()) == 3
    row = Invoice.objects.first()
    assert row is not None
    with django_assert_num_queries(4):
        assert api.get(f"{INVOICES_URL}{row.pk}/").status_code == 200


def test_failed_renewal_retries_mails_and_recovery(
    api: Any, locmem: LocmemBackend, monthly: Any, user: Any, recovered: Received
) -> None:
    sub = subscribe(api, locmem, monthly)
    mail.outbox.clear()
    invoice = locmem.renew(remote_id(sub), outcome="failed")
    deliver(locmem)
    sub.refresh_from_db()
    assert sub.status == "past_due"
    assert sub.past_due_since is not None
    assert sub.is_entitled()  # within the grace period
    row = Invoice.objects.get()
    assert (row.status, row.attempt_count) == ("open", 1)
    assert row.next_payment_attempt is not None
    assert [m.subject for m in mail.outbox] == ["Your payment of 15.00 EUR failed"]
    assert "We will try again on" in mail.outbox[0].body
    first_since = sub.past_due_since

    locmem.retry(invoice.id, outcome="failed")
    deliver(locmem)
    sub.refresh_from_db()
    assert sub.past_due_since == first_since  # the grace period runs from the first failure
    assert len(mail.outbox) == 2
    listed = api.get(SUBSCRIPTIONS_URL).json()[0]
    assert (listed["status"], listed["hosted_invoice_url"]) == ("past_due", row.hosted_invoice_url)
    assert listed["action_required"] is False

    mail.outbox.clear()
    locmem.retry(invoice.id, outcome="paid")
    deliver(locmem)
    sub.refresh_from_db()
    assert (sub.status, sub.past_due_since) == ("active", None)
    assert [(c["invoice"].external_id, c["attempts"]) for c in recovered.calls] == [(invoice.id, 3)]
    assert [m.subject for m in mail.outbox] == ["Payment received: 15.00 EUR"]
    assert api.get(SUBSCRIPTIONS_URL).json()[0]["hosted_invoice_url"] is None


def test_the_last_failed_attempt_is_a_final_notice_and_ends_the_subscription(
    api: Any, locmem: LocmemBackend, monthly: Any, recovered: Received
) -> None:
    sub = subscribe(api, locmem, monthly)
    invoice = locmem.renew(remote_id(sub), outcome="failed")
    for _ in range(3):
        locmem.retry(invoice.id, outcome="failed")
    mail.outbox.clear()
    deliver(locmem)
    subjects = [m.subject for m in mail.outbox if "failed" in m.subject]
    assert subjects == ["Your payment of 15.00 EUR failed"] * 3 + [
        "Final notice: your payment of 15.00 EUR failed"
    ]
    assert "This was our last attempt" in mail.outbox[-1].body or any(
        "This was our last attempt" in m.body for m in mail.outbox
    )
    sub.refresh_from_db()
    assert sub.status == "canceled"
    assert not sub.is_entitled()
    assert recovered.calls == []


def test_a_payment_that_needs_the_customer(
    api: Any, locmem: LocmemBackend, monthly: Any, action_required: Received
) -> None:
    sub = subscribe(api, locmem, monthly)
    mail.outbox.clear()
    invoice = locmem.renew(remote_id(sub), outcome="action_required")
    deliver(locmem)
    # One mail, with the link to confirm (not a "failed" one beside it).
    assert [m.subject for m in mail.outbox] == [
        "Action required: confirm your payment of 15.00 EUR"
    ]
    assert invoice.hosted_invoice_url in mail.outbox[0].body
    assert [c["hosted_invoice_url"] for c in action_required.calls] == [invoice.hosted_invoice_url]
    shown = api.get(subscription_url(sub.pk)).json()
    assert (shown["status"], shown["action_required"]) == ("past_due", True)
    assert shown["hosted_invoice_url"] == invoice.hosted_invoice_url
    assert api.get(INVOICES_URL).json()[0]["action_required"] is True

    locmem.retry(invoice.id, outcome="paid")  # the customer confirmed on the hosted page
    deliver(locmem)
    shown = api.get(subscription_url(sub.pk)).json()
    assert (shown["status"], shown["action_required"], shown["hosted_invoice_url"]) == (
        "active",
        False,
        None,
    )
    assert Subscription.objects.get().is_entitled()


def test_an_older_failure_after_the_payment_changes_nothing(
    api: Any, locmem: LocmemBackend, monthly: Any
) -> None:
    sub = subscribe(api, locmem, monthly)
    invoice = locmem.renew(remote_id(sub), outcome="failed")
    failure = [e for e in locmem.pop_events()]
    locmem.retry(invoice.id, outcome="paid")
    paid = locmem.pop_events()
    from django_payments_sync.interactor import payments

    mail.outbox.clear()
    for event in paid + failure:  # the failure arrives last
        body, headers = locmem.signed_request(event)
        payments.handle_webhook(body, headers)
    row = Invoice.objects.get()
    assert (row.status, row.amount_remaining) == ("paid", 0)
    assert not [m for m in mail.outbox if "failed" in m.subject]
