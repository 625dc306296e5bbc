"""Subscriptions and invoices: creation, payment outcomes, changes, cancellation and the clock."""

from __future__ import annotations

import pytest
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from . import helpers

DAY = 86_400


def _types(emulator: StripeEmulator) -> list[str]:
    return [e["type"] for e in emulator.events()]


def test_create_active_subscription_with_paid_invoice(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client, 2000)
    sub = client.v1.subscriptions.create(
        {"customer": cus.id, "items": [{"price": plan.id, "quantity": 2}], "metadata": {"k": "v"}}
    )
    assert sub.id.startswith("sub_")
    assert sub.status == "active"
    assert sub.cancel_at_period_end is False
    item = sub["items"].data[0]
    assert item.id.startswith("si_")
    assert item.price.id == plan.id
    assert item.quantity == 2
    assert item.current_period_end > item.current_period_start
    assert "current_period_end" not in sub
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "paid"
    assert invoice.amount_paid == 4000
    assert invoice.billing_reason == "subscription_create"
    assert invoice.hosted_invoice_url.startswith(stripe_emulator.url)
    assert invoice.invoice_pdf.endswith("/pdf")
    assert invoice.lines.data[0].id.startswith("il_")
    assert invoice.lines.data[0].pricing.price_details.price == plan.id
    assert invoice.parent.subscription_details.subscription == sub.id
    after_customer = [
        t
        for t in _types(stripe_emulator)
        if not t.startswith(("customer.created", "price", "product"))
    ]
    assert after_customer == [
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    created = stripe_emulator.events("customer.subscription.created")[0]["data"]["object"]
    assert created["status"] == "active"
    assert created["latest_invoice"] == sub.latest_invoice


def test_declined_card_leaves_subscription_incomplete(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client, "pm_card_chargeDeclined")
    plan = helpers.price(client)
    sub = helpers.subscription(client, cus.id, plan.id)
    assert sub.status == "incomplete"
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "open"
    assert invoice.attempt_count == 1
    assert "invoice.payment_failed" in _types(stripe_emulator)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)
    assert caught.value.http_status == 402
    assert caught.value.code == "card_declined"
    paid = client.v1.invoices.pay(invoice.id, {"payment_method": "pm_card_visa"})
    assert paid.status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    # An unpaid incomplete subscription expires after 23 hours.
    other = helpers.subscription(client, cus.id, plan.id)
    stripe_emulator.advance_clock(DAY)
    assert client.v1.subscriptions.retrieve(other.id).status == "incomplete_expired"


def test_error_if_incomplete_and_missing_payment_method(client: stripe.StripeClient) -> None:
    plan = helpers.price(client)
    declining = helpers.customer(client, "pm_card_chargeDeclined")
    with pytest.raises(stripe.CardError) as caught:
        helpers.subscription(client, declining.id, plan.id, payment_behavior="error_if_incomplete")
    assert caught.value.http_status == 402
    assert client.v1.subscriptions.list({"customer": declining.id, "status": "all"}).data == []
    bare = helpers.customer(client, None)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        helpers.subscription(client, bare.id, plan.id)
    assert "no attached payment source" in str(missing.value)
    pending = helpers.subscription(client, bare.id, plan.id, payment_behavior="default_incomplete")
    assert pending.status == "incomplete"
    explicit = helpers.subscription(client, bare.id, plan.id, default_payment_method="pm_card_visa")
    assert explicit.status == "active"
    assert explicit.default_payment_method == "pm_card_visa"


def test_monthly_renewals_bill_each_period(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client, 1000)
    sub = helpers.subscription(client, cus.id, plan.id)
    first_end = sub["items"].data[0].current_period_end
    stripe_emulator.advance_clock(65 * DAY)
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed.status == "active"
    assert renewed["items"].data[0].current_period_start > first_end
    invoices = client.v1.invoices.list({"subscription": sub.id})
    assert len(invoices.data) == 3
    assert [i.billing_reason for i in invoices.data] == [
        "subscription_cycle",
        "subscription_cycle",
        "subscription_create",
    ]
    assert all(i.status == "paid" for i in invoices.data)
    assert invoices.data[1].lines.data[0].period.start == first_end
    assert len(client.v1.invoices.list({"customer": cus.id}).data) == 3
    updates = stripe_emulator.events("customer.subscription.updated")
    assert "items" in updates[0]["data"]["previous_attributes"]


def test_failed_renewal_goes_past_due(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client)
    sub = helpers.subscription(client, cus.id, plan.id)
    client.v1.subscriptions.update(sub.id, {"default_payment_method": "pm_card_chargeDeclined"})
    stripe_emulator.advance_clock(32 * DAY)
    late = client.v1.subscriptions.retrieve(sub.id, {"expand": ["latest_invoice"]})
    assert late.status == "past_due"
    assert late.latest_invoice.status == "open"
    failed = stripe_emulator.events("invoice.payment_failed")
    assert failed[0]["data"]["object"]["id"] == late.latest_invoice.id
    change = stripe_emulator.events("customer.subscription.updated")[-1]["data"]
    assert change["previous_attributes"]["status"] == "active"
    assert change["object"]["status"] == "past_due"
    client.v1.invoices.pay(late.latest_invoice.id, {"payment_method": "pm_card_visa"})
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_trial_then_active(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client, 3000)
    sub = helpers.subscription(client, cus.id, plan.id, trial_period_days=14)
    assert sub.status == "trialing"
    assert sub.trial_end - sub.trial_start == 14 * DAY
    assert client.v1.invoices.retrieve(sub.latest_invoice).amount_due == 0
    stripe_emulator.advance_clock(11 * DAY + 60)
    assert [e["type"] for e in stripe_emulator.events("customer.subscription.trial_will_end")]
    assert client.v1.subscriptions.retrieve(sub.id).status == "trialing"
    stripe_emulator.advance_clock(3 * DAY)
    active = client.v1.subscriptions.retrieve(sub.id, {"expand": ["latest_invoice"]})
    assert active.status == "active"
    assert active.latest_invoice.amount_paid == 3000
    assert active["items"].data[0].current_period_start == sub.trial_end
    assert len(stripe_emulator.events("customer.subscription.trial_will_end")) == 1


def test_trial_without_payment_method_ends_past_due(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client, None)
    plan = helpers.price(client)
    sub = helpers.subscription(client, cus.id, plan.id, trial_period_days=3)
    stripe_emulator.advance_clock(4 * DAY)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"


def test_cancel_at_period_end_takes_effect(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client)
    sub = helpers.subscription(client, cus.id, plan.id)
    end = sub["items"].data[0].current_period_end
    pending = client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    assert pending.cancel_at_period_end is True
    assert pending.cancel_at == end
    assert pending.status == "active"
    change = stripe_emulator.events("customer.subscription.updated")[-1]["data"]
    assert change["previous_attributes"]["cancel_at_period_end"] is False
    stripe_emulator.advance_clock(40 * DAY)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled"
    assert ended.ended_at == end
    assert len(client.v1.invoices.list({"subscription": sub.id}).data) == 1
    assert (
        stripe_emulator.events("customer.subscription.deleted")[0]["data"]["object"]["id"] == sub.id
    )


def test_cancel_now_and_list_filters(client: stripe.StripeClient) -> None:
    cus = helpers.customer(client)
    other = helpers.customer(client)
    cheap = helpers.price(client, 500)
    dear = helpers.price(client, 5000)
    a = helpers.subscription(client, cus.id, cheap.id)
    b = helpers.subscription(client, cus.id, dear.id)
    c = helpers.subscription(client, other.id, cheap.id, trial_period_days=7)
    canceled = client.v1.subscriptions.cancel(a.id)
    assert canceled.status == "canceled"
    assert canceled.canceled_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(a.id)
    ids = lambda params: [s.id for s in client.v1.subscriptions.list(params).data]  # noqa: E731
    assert ids({"customer": cus.id}) == [b.id]
    assert ids({"customer": cus.id, "status": "all"}) == [b.id, a.id]
    assert ids({"status": "canceled"}) == [a.id]
    assert ids({"status": "trialing"}) == [c.id]
    assert ids({"price": cheap.id}) == [c.id]
    assert ids({"price": cheap.id, "status": "all"}) == [c.id, a.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.list({"status": "sleeping"})  # type: ignore[typeddict-item]
    assert caught.value.param == "status"


def test_price_switch_with_proration_behaviours(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    basic = helpers.price(client, 1000)
    pro = helpers.price(client, 3000)
    sub = helpers.subscription(client, cus.id, basic.id)
    item = sub["items"].data[0]
    stripe_emulator.advance_clock(10 * DAY)
    switched = client.v1.subscriptions.update(
        sub.id,
        {"items": [{"id": item.id, "price": pro.id}], "proration_behavior": "always_invoice"},
    )
    assert switched["items"].data[0].price.id == pro.id
    assert switched["items"].data[0].id == item.id
    invoice = client.v1.invoices.retrieve(switched.latest_invoice)
    assert invoice.billing_reason == "subscription_update"
    amounts = sorted(line.amount for line in invoice.lines.data)
    assert amounts[0] < 0 < amounts[1]
    assert 0 < invoice.amount_due < 2000
    assert invoice.lines.data[0].parent.subscription_item_details.proration is True
    previous = stripe_emulator.events("customer.subscription.updated")[-1]["data"][
        "previous_attributes"
    ]
    assert previous["items"]["data"][0]["price"]["id"] == basic.id
    quiet = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "quantity": 3}], "proration_behavior": "none"}
    )
    assert quiet["items"].data[0].quantity == 3
    assert quiet.latest_invoice == invoice.id
    client.v1.subscriptions.update(
        sub.id,
        {"items": [{"id": item.id, "price": basic.id}], "proration_behavior": "create_prorations"},
    )
    assert client.v1.subscriptions.retrieve(sub.id).latest_invoice == invoice.id
    stripe_emulator.advance_clock(25 * DAY)
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert renewal.billing_reason == "subscription_cycle"
    assert len(renewal.lines.data) == 3  # two proration lines carried over, then the new period


def test_interval_change_restarts_the_period(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    monthly = helpers.price(client, 1000, "month")
    yearly = helpers.price(client, 10000, "year")
    sub = helpers.subscription(client, cus.id, monthly.id)
    stripe_emulator.advance_clock(DAY)
    item = sub["items"].data[0]
    changed = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "price": yearly.id}]}
    )
    start = changed["items"].data[0].current_period_start
    end = changed["items"].data[0].current_period_end
    assert end - start >= 365 * DAY
    assert changed.latest_invoice != sub.latest_invoice


def test_invoice_lines_and_missing_invoice(client: stripe.StripeClient) -> None:
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client).id)
    lines = client.v1.invoices.line_items.list(sub.latest_invoice)
    assert lines.data[0].object == "line_item"
    assert lines.url == f"/v1/invoices/{sub.latest_invoice}/lines"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.retrieve("in_nope")
    assert caught.value.code == "resource_missing"


def test_deleting_a_customer_cancels_its_subscriptions(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client).id)
    client.v1.customers.delete(cus.id)
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    types = _types(stripe_emulator)
    assert types.index("customer.subscription.deleted") < types.index("customer.deleted")


def test_trial_end_can_be_moved(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client).id, trial_period_days=30)
    sooner = sub.trial_start + 2 * DAY
    moved = client.v1.subscriptions.update(sub.id, {"trial_end": sooner})
    assert moved.trial_end == sooner
    assert moved["items"].data[0].current_period_end == sooner
    stripe_emulator.advance_clock(2 * DAY + 60)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    ended = client.v1.subscriptions.update(
        helpers.subscription(client, cus.id, helpers.price(client).id, trial_period_days=9).id,
        {"trial_end": "now"},
    )
    assert ended.status == "active"
    assert client.v1.invoices.retrieve(ended.latest_invoice).amount_paid == 1000
