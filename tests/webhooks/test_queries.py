"""Query budget per event type (HTTP request included): at most 5 for the common events (4 for
an event that reads one local row and writes one, 5 for a subscription's update, where the
subscription and its link are written, and for an invoice), more for the events that create
rows.

An event applied in the request costs the lock, the handler's reads (one query per local row,
its relations joined) and writes, and one statement that inserts the event in its final state
unless an older event of its key is pending (then, or for a duplicate, the apply rolls back)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_payments_sync.models import ExternalCustomer, PaymentAttempt, WebhookEvent
from django_payments_sync.testing.webhooks import (
    stripe_checkout_session,
    stripe_customer,
    stripe_event,
    stripe_invoice,
    stripe_subscription,
)
from tests.factories import OrderFactory

# Counted as in production: no test transaction around the request, so our transactions are
# real ones rather than savepoints. Transaction control (BEGIN, COMMIT: logged on SQLite, not
# on PostgreSQL) is not a query against the budget, nor is releasing MySQL's named lock after
# the commit (PostgreSQL's advisory lock is released by the commit itself); taking the lock is.
pytestmark = pytest.mark.django_db(transaction=True)

BUDGETS = {
    "customer.updated": 4,
    # Invoices: the subscription link, then the local invoice record (read for its ordering
    # stamp, then written).
    "invoice.paid": 5,
    "invoice.payment_succeeded": 5,
    "invoice.payment_failed": 5,
    "customer.subscription.updated": 5,
    "customer.subscription.deleted": 5,
    # Creations: the subscription, its link, the order it settles, the events it releases.
    "customer.subscription.created": 9,
    "checkout.session.completed": 7,
}
T0 = 1_760_000_000


@pytest.fixture
def world(linked_customer, linked_pricing):
    customer = linked_customer("cus_Q", email="q@example.com")
    pricing = linked_pricing("price_Q")
    order = OrderFactory(customer=customer, pricing=pricing)
    PaymentAttempt.objects.create(order=order, provider="stripe", external_id="cs_test_Q")
    return customer


def statements(captured: CaptureQueriesContext) -> list[str]:
    control = (
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE SAVEPOINT",
        "SELECT RELEASE_LOCK(",
    )
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]


def sub(status="active", **kwargs):
    return stripe_subscription("sub_Q", customer="cus_Q", price="price_Q", status=status, **kwargs)


STREAM = [
    ("customer.updated", lambda: stripe_customer("cus_Q", email="q2@example.com", name="Q")),
    ("customer.subscription.created", lambda: sub("incomplete")),
    ("invoice.paid", lambda: stripe_invoice("in_Q", customer="cus_Q", subscription="sub_Q")),
    (
        "invoice.payment_succeeded",
        lambda: stripe_invoice("in_Q", customer="cus_Q", subscription="sub_Q"),
    ),
    ("customer.subscription.updated", lambda: sub("active", quantity=2)),
    (
        "checkout.session.completed",
        lambda: stripe_checkout_session(
            "cs_test_Q", customer="cus_Q", email="q@example.com", subscription="sub_Q"
        ),
    ),
    (
        "invoice.payment_failed",
        lambda: stripe_invoice("in_Q2", customer="cus_Q", subscription="sub_Q", status="open"),
    ),
    ("customer.subscription.deleted", lambda: sub("canceled", ended_at=T0 + 99)),
]


@pytest.fixture
def no_mail(settings):
    """The budget is the event's processing: mail hooks (run after commit) are measured apart."""
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "MAIL": {"ENABLED": False}}


def post_stream_within_budgets(post_event):
    """Post :data:`STREAM` in order, each event within its budget; the queries by type."""
    counts = {}
    for offset, (event_type, build) in enumerate(STREAM):
        event = stripe_event(event_type, build(), created=T0 + offset)
        with CaptureQueriesContext(connection) as captured:
            response = post_event(event)
        assert response.status_code == 200, response.content
        queries = statements(captured)
        counts[event_type] = len(queries)
        assert len(queries) <= BUDGETS[event_type], (event_type, queries)
    return counts


def test_common_events_stay_within_the_query_budget(world, post_event, no_mail):
    counts = post_stream_within_budgets(post_event)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    print("queries per event:", counts)


def test_duplicate_changes_nothing_and_costs_one_query_more(world, post_event, no_mail):
    """A duplicate is applied optimistically like any event: its insert meets the stored copy,
    the apply rolls back, and the stored copy is read (one query over the event's budget)."""
    event = stripe_event("customer.updated", stripe_customer("cus_Q", email="q@example.com"))
    assert post_event(event).json()["status"] == "processed"
    link = ExternalCustomer.objects.get(external_id="cus_Q")
    with CaptureQueriesContext(connection) as captured:
        response = post_event(event)
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    queries = statements(captured)
    assert len(queries) <= BUDGETS["customer.updated"] + 1, queries
    # Nothing the rolled-back apply wrote is left.
    again = ExternalCustomer.objects.get(pk=link.pk)
    assert (again.updated_at, again.last_event_id) == (link.updated_at, link.last_event_id)
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1


def test_checkout_that_creates_a_user_stays_within_its_own_budget(post_event, no_mail):
    """Once per new customer: the user, its customer and the link cost about eight more."""
    session = stripe_checkout_session(
        "cs_test_new",
        customer="cus_new",
        email="new@example.com",
        subscription=None,
        mode="payment",
    )
    with CaptureQueriesContext(connection) as captured:
        response = post_event(stripe_event("checkout.session.completed", session))
    assert response.json()["status"] == "processed"
    assert len(statements(captured)) <= 20, statements(captured)


def test_mail_hooks_read_nothing_more(world, post_event, mailoutbox):
    """With mail on, each event stays within the same budget: the receivers after commit find
    what the mails show (the billing email, the plan's name, the invoice) already read."""
    post_stream_within_budgets(post_event)
    from django_payments_sync.models import Pricing

    plan = str(Pricing.objects.get())
    sent = {message.subject: message for message in mailoutbox}
    assert set(sent) == {
        "Payment received: 15.00 EUR",
        "Final notice: your payment of 15.00 EUR failed",
        "Your subscription was canceled",
    }
    assert all(message.to == ["q@example.com"] for message in mailoutbox)
    # They show the plan (read with the subscription's link, not after).
    assert plan in sent["Payment received: 15.00 EUR"].body
    assert plan in sent["Your subscription was canceled"].body


def test_an_ending_in_the_second_of_an_update_reads_nothing_more(world, post_event, no_mail):
    """A cancellation often comes in the same provider second as the update before it (half of
    them in the benchmark's stream): a subscription not ended yet has seen no ending, so the
    ending wins the tie on its rank without the stored last event being read."""
    post_event(stripe_event("customer.subscription.created", sub("incomplete"), created=T0))
    post_event(stripe_event("customer.subscription.updated", sub("active"), created=T0 + 5))
    ending = stripe_event(
        "customer.subscription.deleted", sub("canceled", ended_at=T0 + 5), created=T0 + 5
    )
    with CaptureQueriesContext(connection) as captured:
        response = post_event(ending)
    assert response.json()["status"] == "processed"
    queries = statements(captured)
    assert len(queries) <= BUDGETS["customer.subscription.deleted"], queries
    assert not any("payload" in q and q.lstrip().startswith("SELECT") for q in queries), queries
    from django_payments_sync.models import Subscription

    assert Subscription.objects.get().status == "canceled"
    # An update in the second of the ending, delivered after it, is older: not applied.
    late = stripe_event("customer.subscription.updated", sub("active", quantity=3), created=T0 + 5)
    assert post_event(late).json()["status"] == "processed"
    assert Subscription.objects.get().status == "canceled"
