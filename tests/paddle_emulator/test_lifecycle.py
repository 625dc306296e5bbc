"""Checkout on the hosted page, subscription changes, and the clock: renewals and dunning."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from paddle_billing.Entities.Shared import Checkout
from paddle_billing.Entities.Subscriptions import (
    SubscriptionEffectiveFrom,
    SubscriptionProrationBillingMode,
)
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Subscriptions.Operations import (
    CancelSubscription,
    PauseSubscription,
    ResumeSubscription,
    UpdateSubscription,
)
from paddle_billing.Resources.Subscriptions.Operations.Update.SubscriptionUpdateItem import (
    SubscriptionUpdateItem,
)
from paddle_billing.Resources.Transactions.Operations import CreateTransaction
from paddle_billing.Resources.Transactions.Operations.Create.TransactionCreateItem import (
    TransactionCreateItem,
)

from django_payments_sync.testing.paddle_emulator import PaddleEmulator

from . import helpers

DAY = 86400
MONTH = 31 * DAY


def _page(url: str, action: str, **form: str) -> requests.Response:
    base = url.split("?")[0]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return requests.post(f"{base}/{action}", data={**query, **form}, allow_redirects=False)


def test_the_checkout_page_pays_and_returns_to_the_given_url(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    price = helpers.price(client)
    buyer = helpers.customer(client)
    txn = client.transactions.create(
        CreateTransaction(
            items=[TransactionCreateItem(price.id, 1)],
            customer_id=buyer[0].id,
            address_id=buyer[1].id,
            checkout=Checkout("https://shop.example/pay"),
        )
    )
    assert txn.checkout.url.startswith(paddle_emulator.url + "/checkout/")
    page = requests.get(txn.checkout.url, timeout=5)
    assert page.status_code == 200
    assert "Pay with a declined card" in page.text
    assert "11.90" in page.text  # 10.00 EUR and Germany's 19 %, added by Paddle
    declined = _page(txn.checkout.url, "decline")
    assert declined.status_code == 402
    assert "declined" in declined.text
    assert client.transactions.get(txn.id).status.value == "ready"
    paid = _page(txn.checkout.url, "pay")
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"https://shop.example/pay?_ptxn={txn.id}"
    after = client.transactions.get(txn.id)
    assert after.status.value == "completed"
    sub = client.subscriptions.get(after.subscription_id)
    assert (sub.status.value, sub.customer_id, sub.items[0].quantity) == ("active", buyer[0].id, 1)
    again = _page(txn.checkout.url, "pay")
    assert again.status_code == 400  # a completed transaction is not paid twice
    assert len(client.subscriptions.list().items) == 1


def test_the_checkout_page_asks_a_guest_for_email_and_country(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    price = helpers.price(client, interval=None)
    txn = helpers.checkout(client, price.id)
    assert txn.status.value == "draft"
    assert "name='email'" in requests.get(txn.checkout.url, timeout=5).text
    missing = _page(txn.checkout.url, "pay", email="", country_code="FR")
    assert missing.status_code == 400
    assert "email: must be a valid email address" in missing.text
    paid = _page(txn.checkout.url, "pay", email="guest@example.com", country_code="FR")
    assert paid.status_code == 200
    done = client.transactions.get(txn.id)
    assert done.status.value == "completed"
    assert done.subscription_id is None  # a one-time price
    assert done.details.totals.tax == "200"  # France, 20 %
    assert client.customers.get(done.customer_id).email == "guest@example.com"


def test_cancel_on_the_checkout_page_changes_nothing(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    txn = client.transactions.create(
        CreateTransaction(
            items=[TransactionCreateItem(helpers.price(client).id, 1)],
            checkout=Checkout("https://shop.example/pay?plan=pro"),
        )
    )
    answer = _page(txn.checkout.url, "cancel")
    assert answer.headers["Location"] == (
        f"https://shop.example/pay?plan=pro&_ptxn={txn.id}&checkout=canceled"
    )
    assert client.transactions.get(txn.id).status.value == "draft"


def test_a_trial_price_makes_a_trialing_subscription_billed_when_it_ends(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    price = helpers.price(client, trial_days=7)
    sub = helpers.subscribed(client, paddle_emulator, price.id)
    assert sub.status.value == "trialing"
    assert sub.items[0].trial_dates is not None
    paddle_emulator.advance_clock(8 * DAY)
    after = client.subscriptions.get(sub.id)
    assert after.status.value == "active"
    bills = client.transactions.list()
    assert [t.origin.value for t in bills.items] == ["subscription_recurring", "api"]
    assert bills.items[0].details.totals.subtotal == "1000"


def test_renewals_and_a_failed_renewal_with_its_recovery(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    first_end = sub.current_billing_period.ends_at
    paddle_emulator.advance_clock(MONTH)
    renewed = client.subscriptions.get(sub.id)
    assert renewed.current_billing_period.starts_at == first_end
    assert renewed.status.value == "active"
    paddle_emulator.set_payment_card(sub.customer_id, declined=True)
    paddle_emulator.advance_clock(MONTH)
    assert client.subscriptions.get(sub.id).status.value == "past_due"
    types = [e["event_type"] for e in paddle_emulator.events()]
    assert types[-3:] == [
        "transaction.payment_failed",
        "transaction.past_due",
        "subscription.past_due",
    ]
    paddle_emulator.set_payment_card(sub.customer_id, declined=False)
    paddle_emulator.advance_clock(DAY + 1)
    assert client.subscriptions.get(sub.id).status.value == "active"
    statuses = [t.status.value for t in client.transactions.list().items]
    assert statuses == ["completed", "completed", "completed"]


def test_a_renewal_never_paid_cancels_after_dunning(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    paddle_emulator.set_payment_card(sub.customer_id, declined=True)
    paddle_emulator.advance_clock(MONTH + 8 * DAY)
    assert client.subscriptions.get(sub.id).status.value == "canceled"
    assert "transaction.canceled" in [e["event_type"] for e in paddle_emulator.events()]


def test_update_items_with_proration(paddle_emulator: PaddleEmulator, client: Any) -> None:
    price = helpers.price(client)
    bigger = helpers.price(client, "3000", product_id=price.product_id)
    sub = helpers.subscribed(client, paddle_emulator, price.id)
    with pytest.raises(ApiError) as refused:
        client.subscriptions.update(
            sub.id, UpdateSubscription(items=[SubscriptionUpdateItem(bigger.id, 1)])
        )
    assert refused.value.field_errors[0].field == "proration_billing_mode"
    updated = client.subscriptions.update(
        sub.id,
        UpdateSubscription(
            items=[SubscriptionUpdateItem(bigger.id, 2)],
            proration_billing_mode=SubscriptionProrationBillingMode.ProratedImmediately,
        ),
    )
    assert [(i.price.id, i.quantity) for i in updated.items] == [(bigger.id, 2)]
    charge = client.transactions.list().items[0]  # newest first
    assert charge.origin.value == "subscription_update"
    assert charge.items[0].proration is not None
    assert 0 < int(charge.details.totals.subtotal) <= 6000
    quiet = client.subscriptions.update(
        sub.id,
        UpdateSubscription(
            items=[SubscriptionUpdateItem(bigger.id, 3)],
            proration_billing_mode=SubscriptionProrationBillingMode.ProratedNextBillingPeriod,
        ),
    )
    assert quiet.items[0].quantity == 3
    assert len(client.transactions.list().items) == 2  # billed later, not now


def test_declined_immediate_proration_leaves_the_subscription_unchanged(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    price = helpers.price(client)
    sub = helpers.subscribed(client, paddle_emulator, price.id)
    paddle_emulator.set_payment_card(sub.customer_id, declined=True)
    with pytest.raises(ApiError):
        client.subscriptions.update(
            sub.id,
            UpdateSubscription(
                items=[SubscriptionUpdateItem(price.id, 5)],
                proration_billing_mode=SubscriptionProrationBillingMode.FullImmediately,
            ),
        )
    assert client.subscriptions.get(sub.id).items[0].quantity == 1


def test_cancel_at_period_end_then_undo_then_cancel_now(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    scheduled = client.subscriptions.cancel(sub.id, CancelSubscription())
    assert scheduled.scheduled_change.action.value == "cancel"
    assert scheduled.status.value == "active"
    undone = client.subscriptions.update(sub.id, UpdateSubscription(scheduled_change=None))
    assert undone.scheduled_change is None
    paddle_emulator.advance_clock(MONTH)
    assert client.subscriptions.get(sub.id).status.value == "active"
    client.subscriptions.cancel(sub.id, CancelSubscription())
    paddle_emulator.advance_clock(MONTH)
    ended = client.subscriptions.get(sub.id)
    assert ended.status.value == "canceled"
    assert ended.canceled_at is not None
    with pytest.raises(ApiError) as again:
        client.subscriptions.cancel(
            sub.id, CancelSubscription(effective_from=SubscriptionEffectiveFrom.Immediately)
        )
    assert again.value.error_code == "subscription_is_canceled_action_invalid"


def test_pause_with_resume_at_and_resume(paddle_emulator: PaddleEmulator, client: Any) -> None:
    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    paused = client.subscriptions.pause(
        sub.id, PauseSubscription(effective_from=SubscriptionEffectiveFrom.Immediately)
    )
    assert (paused.status.value, paused.next_billed_at) == ("paused", None)
    resumed = client.subscriptions.resume(sub.id, ResumeSubscription())
    assert resumed.status.value == "active"
    assert resumed.next_billed_at is not None
    at_end = client.subscriptions.pause(sub.id, PauseSubscription())
    assert at_end.scheduled_change.action.value == "pause"
    paddle_emulator.advance_clock(MONTH)
    assert client.subscriptions.get(sub.id).status.value == "paused"
    with pytest.raises(ApiError):
        client.subscriptions.pause(sub.id, PauseSubscription())


def test_the_portal_cancels_and_switches_the_card(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    from paddle_billing.Resources.CustomerPortalSessions.Operations import (
        CreateCustomerPortalSession,
    )

    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    session = client.customer_portal_sessions.create(
        sub.customer_id, CreateCustomerPortalSession([sub.id])
    )
    overview = session.urls.general.overview
    page = requests.get(overview, timeout=5)
    assert page.status_code == 200
    assert sub.id in page.text
    base = overview.split("?")[0]
    requests.post(base + "/card", data={"card": "declined"}, timeout=5)
    assert "0002" in requests.get(overview, timeout=5).text
    answer = requests.post(base + "/cancel", data={"subscription": sub.id}, allow_redirects=False)
    assert answer.status_code == 303
    assert client.subscriptions.get(sub.id).scheduled_change.action.value == "cancel"
    stranger = requests.post(base + "/cancel", data={"subscription": "sub_" + "0" * 26})
    assert stranger.status_code == 400


def test_dashboard_edits_emit_their_events(paddle_emulator: PaddleEmulator, client: Any) -> None:
    customer, _ = helpers.customer(client)
    paddle_emulator.update_entity(customer.id, {"email": "new@example.com"})
    assert client.customers.get(customer.id).email == "new@example.com"
    assert paddle_emulator.events()[-1]["event_type"] == "customer.updated"
    with pytest.raises(ValueError, match="unknown fields"):
        paddle_emulator.update_entity(customer.id, {"colour": "red"})
    sub = helpers.subscribed(client, paddle_emulator, helpers.price(client).id)
    paddle_emulator.cancel_subscription(sub.id)
    assert client.subscriptions.get(sub.id).status.value == "canceled"
    assert paddle_emulator.events()[-1]["event_type"] == "subscription.canceled"


def test_the_checkout_page_escapes_what_the_merchant_typed(
    paddle_emulator: PaddleEmulator, client: Any
) -> None:
    from paddle_billing.Entities.Shared import TaxCategory
    from paddle_billing.Resources.Products.Operations import CreateProduct

    product = client.products.create(
        CreateProduct(name="<script>alert(1)</script>", tax_category=TaxCategory.Standard)
    )
    price = helpers.price(client, product_id=product.id)
    page = requests.get(helpers.checkout(client, price.id).checkout.url, timeout=5).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
