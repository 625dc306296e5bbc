"""What events do to local state: customers, subscriptions, invoices, checkouts, tax ids, drift."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from django_payments_sync import signals
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    ExternalCustomer,
    ExternalSubscription,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
    ProviderDeletion,
    Subscription,
    VatValidationStatus,
    WebhookEvent,
)
from django_payments_sync.testing.webhooks import (
    stripe_checkout_session,
    stripe_customer,
    stripe_event,
    stripe_invoice,
    stripe_price,
    stripe_product,
    stripe_subscription,
    stripe_tax_id,
)
from tests.factories import BillingInformationFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

T0 = 1_760_000_000


def status_of(event: dict) -> str:
    return WebhookEvent.objects.get(event_id=event["id"]).status


class Recorder:
    """Collects the keyword arguments of every send of a signal."""

    def __init__(self, signal):
        self.calls: list[dict] = []
        self.signal = signal
        signal.connect(self.receive, weak=False)

    def receive(self, sender, signal, **kwargs):
        self.calls.append(kwargs)

    def close(self):
        self.signal.disconnect(self.receive)


@pytest.fixture
def record():
    recorders = []

    def make(signal):
        recorders.append(Recorder(signal))
        return recorders[-1]

    yield make
    for r in recorders:
        r.close()


# --- customers ----------------------------------------------------------------------------
def test_customer_created_links_through_metadata_and_updates_fields(post_event):
    local = CustomerFactory(email="old@example.com", name="Old")
    Customer.objects.filter(pk=local.pk).update(sync_status="synced")
    event = stripe_event(
        "customer.created",
        stripe_customer("cus_M", email="new@example.com", name="New", local_id=str(local.pk)),
        created=T0,
    )
    assert post_event(event).status_code == 200
    link = ExternalCustomer.objects.get(external_id="cus_M")
    assert link.customer == local
    assert link.last_event_id == event["id"]
    local.refresh_from_db()
    assert (local.email, local.name) == ("new@example.com", "New")


def test_older_customer_event_never_overwrites_newer_state(post_event, linked_customer):
    local = linked_customer("cus_O", email="x@example.com")
    Customer.objects.filter(pk=local.pk).update(sync_status="synced")
    newer = stripe_event(
        "customer.updated",
        stripe_customer("cus_O", email="x@example.com", name="Newer"),
        created=T0 + 10,
    )
    older = stripe_event(
        "customer.updated",
        stripe_customer("cus_O", email="x@example.com", name="Older"),
        created=T0,
    )
    post_event(newer)
    post_event(older)
    local.refresh_from_db()
    assert local.name == "Newer"
    assert status_of(older) == "processed"


def test_local_edits_not_pushed_yet_win_over_the_provider(post_event, linked_customer):
    local = linked_customer("cus_P", email="x@example.com", name="Local")
    assert local.sync_status == "pending"  # saved locally, not pushed yet
    post_event(
        stripe_event(
            "customer.updated",
            stripe_customer("cus_P", email="x@example.com", name="Remote"),
            created=T0,  # before the local edit
        )
    )
    local.refresh_from_db()
    assert local.name == "Local"


def test_a_provider_edit_newer_than_an_unpushed_local_change_wins(post_event, linked_customer):
    """A row whose create lost its answer is pending; the dashboard edits it afterwards."""
    local = linked_customer("cus_P2", email="x@example.com", name="Local")
    assert local.sync_status == "pending"
    post_event(
        stripe_event(
            "customer.updated",
            stripe_customer("cus_P2", email="x@example.com", name="Dashboard"),
            created=int(local.updated_at.timestamp()) + 60,
        )
    )
    local.refresh_from_db()
    assert local.name == "Dashboard"


def test_customer_event_for_an_unknown_customer_is_deferred(post_event):
    event = stripe_event("customer.created", stripe_customer("cus_U", email="nobody@example.com"))
    assert post_event(event).status_code == 200
    row = WebhookEvent.objects.get(event_id=event["id"])
    assert row.status == "deferred"
    assert row.waiting_for == "customer:cus_U"
    assert not Customer.objects.exists()


def test_a_customer_deleted_at_the_provider_stays_deleted(post_event, linked_customer):
    local = linked_customer("cus_D", email="d@example.com")
    deleted = stripe_event("customer.deleted", stripe_customer("cus_D", email="d@example.com"))
    post_event(deleted)
    # The local row and its link are kept, marked with the reason; the deletion is recorded.
    assert ExternalCustomer.objects.filter(customer=local).exists()
    local.refresh_from_db()
    assert local.sync_status == "failed"
    assert "deleted at the provider" in local.sync_error
    assert deleted["id"] in local.sync_error
    assert ProviderDeletion.objects.filter(external_id="cus_D", event_id=deleted["id"]).exists()
    late = stripe_event(
        "customer.updated",
        stripe_customer("cus_D", email="new@example.com", local_id=str(local.pk)),
        created=1,
    )
    post_event(late)
    local.refresh_from_db()
    assert local.email == "d@example.com"
    assert status_of(late) == "processed"  # older than the deletion: nothing applied


def test_a_late_snapshot_never_reverts_what_was_pushed_since(post_event, linked_customer):
    """The customer.created of a customer made before its billing information arrives after
    the billing push: its older name and email are a snapshot, not a provider edit."""
    local = linked_customer("cus_L", email="first@example.com", name="First")
    BillingInformationFactory(customer=local, email="billing@example.com", name="Billing Co")
    ExternalCustomer.objects.filter(customer=local).update(
        synced_state={"email": "billing@example.com", "name": "Billing Co"}
    )
    later = T0 + 3600 * 24 * 365 * 10  # after every local change
    post_event(
        stripe_event(
            "customer.created",
            stripe_customer("cus_L", email="first@example.com", name="First"),
            created=later,
        )
    )
    # An update of another field (its snapshot still holds the older name) changes nothing.
    post_event(
        stripe_event(
            "customer.updated",
            stripe_customer("cus_L", email="first@example.com", name="First"),
            created=later + 1,
            previous_attributes={"tax_exempt": "none"},
        )
    )
    billing = BillingInformation.objects.get(customer=local)
    assert (billing.email, billing.name) == ("billing@example.com", "Billing Co")


def test_a_deletion_that_arrives_before_the_link_is_not_lost(post_event):
    local = CustomerFactory(email="early@example.com")
    created = stripe_event(
        "customer.created",
        stripe_customer("cus_E", email="early@example.com", local_id=str(local.pk)),
        created=T0,
    )
    deleted = stripe_event(
        "customer.deleted", stripe_customer("cus_E", email="early@example.com"), created=T0 + 5
    )
    post_event(deleted)  # nothing is linked yet
    assert status_of(deleted) == "processed"
    post_event(created)  # the older creation arrives next: it must not link the deleted one
    assert status_of(created) == "ignored"
    assert not ExternalCustomer.objects.exists()
    post_event(deleted)  # a duplicate changes nothing
    assert ProviderDeletion.objects.filter(external_id="cus_E").count() == 1


def test_a_provider_edit_reaches_both_local_copies(post_event, linked_customer):
    local = linked_customer("cus_B", email="old@example.com", name="Old")
    BillingInformationFactory(customer=local, email="old@example.com", name="Old")
    ExternalCustomer.objects.filter(customer=local).update(
        synced_state={"email": "old@example.com", "name": "Old"}
    )
    post_event(
        stripe_event(
            "customer.updated",
            stripe_customer("cus_B", email="new@example.com", name="New"),
            created=T0 + 3600 * 24 * 365 * 10,
            previous_attributes={"email": "old@example.com", "name": "Old"},
        )
    )
    local.refresh_from_db()
    billing = local.billing_information
    assert (local.email, local.name) == ("new@example.com", "New")
    assert (billing.email, billing.name) == ("new@example.com", "New")
    link = ExternalCustomer.objects.get(customer=local)
    assert (link.synced_state["email"], link.synced_state["name"]) == ("new@example.com", "New")


# --- subscriptions ------------------------------------------------------------------------
def sub_event(event_type, status="active", created=T0, **kwargs):
    kwargs.setdefault("customer", "cus_S")
    kwargs.setdefault("price", "price_S")
    return stripe_event(
        event_type, stripe_subscription("sub_S", status=status, **kwargs), created=created
    )


def test_subscription_created_makes_local_subscription(
    post_event, linked_customer, linked_pricing, record, django_capture_on_commit_callbacks
):
    customer = linked_customer("cus_S")
    pricing = linked_pricing("price_S")
    created = record(signals.subscription_created)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(sub_event("customer.subscription.created", quantity=3))
    sub = Subscription.objects.get()
    assert (sub.customer, sub.pricing, sub.status, sub.quantity) == (customer, pricing, "active", 3)
    assert sub.current_period_end.timestamp() == 1_702_592_000
    assert ExternalSubscription.objects.get().external_id == "sub_S"
    assert [c["subscription"] for c in created.calls] == [sub]


def test_subscription_event_before_its_customer_is_deferred_then_applied(
    post_event, linked_pricing
):
    linked_pricing("price_S")
    early = sub_event("customer.subscription.created", created=T0 + 1)
    post_event(early)
    assert status_of(early) == "deferred"
    assert not Subscription.objects.exists()
    local = CustomerFactory()
    post_event(
        stripe_event(
            "customer.created",
            stripe_customer("cus_S", email=local.email, local_id=str(local.pk)),
            created=T0,
        )
    )
    assert status_of(early) == "processed"
    assert Subscription.objects.get().customer == local


def test_out_of_order_subscription_events_keep_the_newest_state(
    post_event, linked_customer, linked_pricing, record, django_capture_on_commit_callbacks
):
    linked_customer("cus_S")
    linked_pricing("price_S")
    canceled = record(signals.subscription_canceled)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(
            sub_event(
                "customer.subscription.deleted",
                status="canceled",
                created=T0 + 20,
                ended_at=T0 + 20,
            )
        )
        post_event(sub_event("customer.subscription.updated", status="past_due", created=T0 + 10))
        post_event(sub_event("customer.subscription.created", status="active", created=T0))
    sub = Subscription.objects.get()
    assert sub.status == "canceled"
    assert ExternalSubscription.objects.get().last_event_at.timestamp() == T0 + 20
    assert canceled.calls == []  # created as canceled: nothing was canceled locally


def test_same_second_events_are_ordered_by_type(post_event, linked_customer, linked_pricing):
    linked_customer("cus_S")
    linked_pricing("price_S")
    post_event(sub_event("customer.subscription.updated", status="active", created=T0))
    post_event(sub_event("customer.subscription.created", status="incomplete", created=T0))
    assert Subscription.objects.get().status == "active"


def test_cancel_at_period_end_sends_subscription_canceled(
    post_event, linked_customer, linked_pricing, record, django_capture_on_commit_callbacks
):
    linked_customer("cus_S")
    linked_pricing("price_S")
    canceled = record(signals.subscription_canceled)
    updated = record(signals.subscription_updated)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(sub_event("customer.subscription.created", created=T0))
        post_event(
            sub_event("customer.subscription.updated", created=T0 + 5, cancel_at_period_end=True)
        )
    assert [c["at_period_end"] for c in canceled.calls] == [True]
    assert updated.calls[0]["changed_fields"] == ("cancel_at_period_end",)


# --- invoices -----------------------------------------------------------------------------
def test_invoice_paid_signals_once(
    post_event, linked_customer, linked_pricing, record, django_capture_on_commit_callbacks
):
    linked_customer("cus_S")
    linked_pricing("price_S")
    succeeded = record(signals.payment_succeeded)
    inv = stripe_invoice("in_1", customer="cus_S", subscription="sub_S", amount_due=1500)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(sub_event("customer.subscription.created", status="incomplete", created=T0))
        post_event(stripe_event("invoice.paid", inv, created=T0 + 1))
        post_event(stripe_event("invoice.payment_succeeded", inv, created=T0 + 1))
    # The status comes from the subscription's own events (customer.subscription.updated).
    assert Subscription.objects.get().status == "incomplete"
    assert len(succeeded.calls) == 1
    call = succeeded.calls[0]
    assert (call["amount"], call["currency"], call["invoice_id"]) == (1500, "eur", "in_1")
    assert call["hosted_invoice_url"].endswith("in_1")


def test_invoice_payment_failed_signals(
    post_event, linked_customer, linked_pricing, record, django_capture_on_commit_callbacks
):
    linked_customer("cus_S")
    linked_pricing("price_S")
    failed = record(signals.payment_failed)
    inv = stripe_invoice("in_2", customer="cus_S", subscription="sub_S", status="open")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(sub_event("customer.subscription.created", created=T0))
        post_event(stripe_event("invoice.payment_failed", inv, created=T0 + 30))
        # A failure older than the subscription's last change is stale: no mail.
        post_event(stripe_event("invoice.payment_failed", inv, created=T0 - 30))
    assert len(failed.calls) == 1
    assert failed.calls[0]["subscription"] == Subscription.objects.get()
    assert failed.calls[0]["amount"] == 1500


def test_invoice_before_its_subscription_waits_for_it(post_event, linked_customer, linked_pricing):
    linked_customer("cus_S")
    linked_pricing("price_S")
    inv = stripe_event(
        "invoice.paid",
        stripe_invoice("in_3", customer="cus_S", subscription="sub_S"),
        created=T0 + 1,
    )
    post_event(inv)
    assert WebhookEvent.objects.get(event_id=inv["id"]).waiting_for == "subscription:sub_S"
    post_event(sub_event("customer.subscription.created", status="incomplete", created=T0))
    assert status_of(inv) == "processed"


# --- checkout -----------------------------------------------------------------------------
def checkout_events(email="new@example.com", order=None):
    session = stripe_checkout_session(
        "cs_test_1",
        customer="cus_N",
        email=email,
        name="New Person",
        subscription="sub_N",
        client_reference_id=str(order.pk) if order else None,
    )
    return [
        stripe_event("customer.created", stripe_customer("cus_N", email=email), created=T0),
        stripe_event(
            "customer.subscription.created",
            stripe_subscription("sub_N", customer="cus_N", price="price_N"),
            created=T0,
        ),
        stripe_event(
            "invoice.paid",
            stripe_invoice("in_N", customer="cus_N", subscription="sub_N"),
            created=T0,
        ),
        stripe_event("checkout.session.completed", session, created=T0 + 1),
    ]


@pytest.mark.parametrize("order_of_delivery", [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 3, 0, 2, 1]])
def test_checkout_for_unknown_email_creates_exactly_one_user(
    post_event, linked_pricing, order_of_delivery
):
    linked_pricing("price_N")
    events = checkout_events()
    for index in order_of_delivery:
        assert post_event(events[index]).status_code == 200
    users = get_user_model().objects.filter(email__iexact="new@example.com")
    assert users.count() == 1
    customer = Customer.objects.get()
    assert customer.owner == users.get()
    assert ExternalCustomer.objects.get().external_id == "cus_N"
    assert Subscription.objects.get().customer == customer
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_checkout_settles_attempt_and_order_and_links_subscription(
    post_event, linked_customer, linked_pricing, record, django_capture_on_commit_callbacks
):
    customer = linked_customer("cus_N", email="buyer@example.com")
    pricing = linked_pricing("price_N")
    order = OrderFactory(customer=customer, pricing=pricing)
    attempt = PaymentAttempt.objects.create(order=order, provider="stripe", external_id="cs_test_1")
    completed = record(signals.checkout_completed)
    events = checkout_events(email="buyer@example.com", order=order)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(events[3])
        post_event(events[1])
    attempt.refresh_from_db()
    order.refresh_from_db()
    assert attempt.status == PaymentAttemptStatus.SUCCEEDED
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert order.subscription == Subscription.objects.get()
    assert completed.calls[0]["user_created"] is False
    assert get_user_model().objects.count() == 1


def test_checkout_expired_cancels_the_pending_order(post_event, linked_customer, linked_pricing):
    customer = linked_customer("cus_E")
    order = OrderFactory(customer=customer, pricing=linked_pricing("price_E"))
    attempt = PaymentAttempt.objects.create(order=order, provider="stripe", external_id="cs_test_E")
    session = stripe_checkout_session(
        "cs_test_E",
        customer="cus_E",
        email=customer.email,
        status="expired",
        payment_status="unpaid",
    )
    post_event(stripe_event("checkout.session.expired", session))
    attempt.refresh_from_db()
    order.refresh_from_db()
    assert attempt.status == PaymentAttemptStatus.EXPIRED
    assert order.status == OrderStatus.CANCELED


# --- tax ids ------------------------------------------------------------------------------
def test_verified_tax_id_updates_the_tax_status(
    post_event, linked_customer, record, django_capture_on_commit_callbacks, settings
):
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "AUTO_SYNC": False}
    customer = linked_customer("cus_T")
    billing = BillingInformationFactory(
        customer=customer, country="AT", tax_id="ATU12345678", vat_validation_status="pending"
    )
    changed = record(signals.tax_status_changed)
    tax_id = stripe_tax_id(
        "txi_1", customer="cus_T", value="ATU12345678", verification_status="verified"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_event(stripe_event("customer.tax_id.updated", tax_id))
    billing.refresh_from_db()
    assert billing.vat_validation_status == VatValidationStatus.VALID
    assert billing.tax_exemption == "reverse"
    assert changed.calls[0]["previous_vat_validation_status"] == "pending"


def test_the_tax_id_event_decides_through_the_one_writer(post_event, linked_customer, settings):
    """The same writer as the billing API: is_from_eu follows the country here too."""
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "AUTO_SYNC": False}
    customer = linked_customer("cus_W")
    billing = BillingInformationFactory(
        customer=customer, country="AT", tax_id="ATU12345678", vat_validation_status="pending"
    )
    BillingInformation.objects.filter(pk=billing.pk).update(is_from_eu=False)  # stale
    tax_id = stripe_tax_id(
        "txi_2", customer="cus_W", value="ATU12345678", verification_status="verified"
    )
    post_event(stripe_event("customer.tax_id.updated", tax_id))
    billing.refresh_from_db()
    assert (billing.is_from_eu, billing.tax_exemption) == (True, "reverse")
    assert billing.tax_decision_reason


def test_pending_tax_id_never_downgrades_a_valid_number(post_event, linked_customer):
    customer = linked_customer("cus_T")
    billing = BillingInformationFactory(
        customer=customer, country="AT", tax_id="ATU12345678", vat_validation_status="valid"
    )
    tax_id = stripe_tax_id(
        "txi_1", customer="cus_T", value="ATU12345678", verification_status="pending"
    )
    post_event(stripe_event("customer.tax_id.created", tax_id))
    billing.refresh_from_db()
    assert billing.vat_validation_status == "valid"


# --- catalog drift ------------------------------------------------------------------------
def test_price_change_at_the_provider_is_recorded_as_drift_not_applied(post_event, linked_pricing):
    pricing = linked_pricing("price_D", amount=1500)
    event = stripe_event(
        "price.updated", stripe_price("price_D", product="prod_D", unit_amount=999)
    )
    post_event(event)
    pricing.refresh_from_db()
    assert pricing.amount == 1500
    row = WebhookEvent.objects.get(event_id=event["id"])
    assert row.status == "ignored"
    assert row.ordering_key == "catalog"
    assert row.last_error.startswith("drift: price price_D: amount 999 != 1500")


def test_unknown_product_is_ignored(post_event):
    event = stripe_event("product.created", stripe_product("prod_X"))
    post_event(event)
    assert status_of(event) == "ignored"


def test_a_product_deleted_at_the_provider_is_remembered_even_unlinked(post_event):
    event = stripe_event("product.deleted", stripe_product("prod_Gone"))
    post_event(event)
    post_event(event)  # a duplicate
    (row,) = ProviderDeletion.objects.filter(object_type="product")
    assert (row.external_id, row.event_id) == ("prod_Gone", event["id"])


# --- failures, retries, replays -----------------------------------------------------------
class Boom(Exception):
    pass


@pytest.fixture
def failing_subscription_save():
    """A host receiver that fails, as host code does: the handler's changes must roll back.

    Yields the fix: calling it disconnects the receiver.
    """

    def receiver(sender, instance, **kwargs):
        raise Boom("host receiver failed")

    post_save.connect(receiver, sender=Subscription, weak=False)

    def fix():
        post_save.disconnect(receiver, sender=Subscription)

    yield fix
    fix()


def test_failure_rolls_back_answers_500_then_redelivery_retries(
    post_event, linked_customer, linked_pricing, failing_subscription_save
):
    linked_customer("cus_S")
    linked_pricing("price_S")
    event = sub_event("customer.subscription.created")
    assert post_event(event).status_code == 500
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "Traceback" in row.last_error
    assert "Boom: host receiver failed" in row.last_error
    assert not Subscription.objects.exists()
    assert not ExternalSubscription.objects.exists()
    # The provider delivers it again while the bug is still there: failed again.
    assert post_event(event).status_code == 500
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    # The host fixes its bug; the next delivery applies it.
    failing_subscription_save()
    response = post_event(event)
    assert response.status_code == 200
    assert response.json() == {"id": event["id"], "status": "processed", "duplicate": True}
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("processed", 3)
    assert Subscription.objects.get().status == "active"


def test_events_retry_command_applies_failed_events(
    post_event, linked_customer, linked_pricing, failing_subscription_save
):
    from io import StringIO

    from django.core.management import call_command

    linked_customer("cus_S")
    linked_pricing("price_S")
    post_event(sub_event("customer.subscription.created"))
    assert WebhookEvent.objects.get().status == "failed"
    failing_subscription_save()
    out = StringIO()
    call_command("payments_sync", "events", "retry", stdout=out)
    assert "1 processed" in out.getvalue()
    assert Subscription.objects.get().status == "active"


def test_events_process_and_replay_commands(post_event, linked_pricing):
    from io import StringIO

    from django.core.management import call_command

    linked_pricing("price_S")
    early = sub_event("customer.subscription.created")
    post_event(early)
    assert status_of(early) == "deferred"
    local = CustomerFactory()
    ExternalCustomer.objects.create(provider="stripe", external_id="cus_S", customer=local)
    out = StringIO()
    call_command("payments_sync", "events", "process", stdout=out)
    assert "1 processed" in out.getvalue()
    assert Subscription.objects.get().customer == local
    Subscription.objects.update(status="unpaid")
    call_command("payments_sync", "events", "replay", early["id"], stdout=out)
    assert Subscription.objects.get().status == "active"
    assert WebhookEvent.objects.get().attempts == 3


@pytest.mark.parametrize("arrival", [(0, 1), (1, 0)])
def test_same_second_updates_are_ordered_by_previous_attributes(
    post_event, linked_customer, linked_pricing, arrival
):
    linked_customer("cus_S")
    linked_pricing("price_S")
    post_event(sub_event("customer.subscription.created", created=T0, quantity=1))

    def snapshot(quantity):
        return stripe_subscription("sub_S", customer="cus_S", price="price_S", quantity=quantity)

    # As Stripe sends them: the changed list whole, as it was before.
    updates = [
        stripe_event(
            "customer.subscription.updated",
            snapshot(q),
            created=T0 + 1,
            previous_attributes={"items": {"data": snapshot(q - 1)["items"]["data"]}},
        )
        for q in (2, 3)
    ]
    for index in arrival:
        post_event(updates[index])
    assert Subscription.objects.get().quantity == 3


def test_customer_without_metadata_links_by_email(post_event):
    local = CustomerFactory(email="Match@Example.com")
    post_event(
        stripe_event("customer.created", stripe_customer("cus_E1", email="match@example.com"))
    )
    assert ExternalCustomer.objects.get(external_id="cus_E1").customer == local


def test_checkout_for_an_existing_users_email_creates_no_user(post_event):
    existing = CustomerFactory(email="known@example.com", owner__email="known@example.com")
    session = stripe_checkout_session(
        "cs_test_K", customer="cus_K", email="KNOWN@example.com", subscription=None, mode="payment"
    )
    post_event(stripe_event("checkout.session.completed", session))
    assert get_user_model().objects.count() == 1
    assert ExternalCustomer.objects.get(external_id="cus_K").customer == existing


def test_checkout_for_a_new_email_says_the_user_was_created(
    post_event, record, django_capture_on_commit_callbacks, settings
):
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "MAIL": {"ENABLED": False}}
    completed = record(signals.checkout_completed)
    session = stripe_checkout_session(
        "cs_test_F", customer="cus_F", email="Fresh@Example.com", subscription=None, mode="payment"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_event(stripe_event("checkout.session.completed", session))
    user = get_user_model().objects.get()
    assert user.email == "fresh@example.com"
    assert not user.has_usable_password()
    assert Customer.objects.get().owner == user
    # No local payment attempt: the checkout linked the customer, nothing to settle.
    assert completed.calls == []
