"""Hosted pages over plain HTTP: Checkout, the billing portal, invoices and their PDFs."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import requests
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from . import helpers
from .conftest import Receiver

SUCCESS = "https://shop.example/success?session={CHECKOUT_SESSION_ID}"
CANCEL = "https://shop.example/cancel"


def _actions(page: str) -> list[str]:
    return re.findall(r"action='([^']+)'", page)


def _subscription_session(client: stripe.StripeClient, **extra: Any) -> stripe.checkout.Session:
    plan = helpers.price(client, 1200)
    return client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": plan.id, "quantity": 1}],
            "success_url": SUCCESS,
            "cancel_url": CANCEL,
            "client_reference_id": "user-7",
            "metadata": {"order": "o-1"},
            **extra,
        }
    )


def test_checkout_subscription_pay(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    session = _subscription_session(client, customer_email="new@example.com")
    assert session.id.startswith("cs_test_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.url.startswith(stripe_emulator.url)
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200
    assert "<td class='ps-num' id='total'>12.00 EUR</td>" in page.text
    assert len(_actions(page.text)) == 3
    pay = next(a for a in _actions(page.text) if a.endswith("/pay"))
    answer = requests.post(stripe_emulator.url + pay, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"https://shop.example/success?session={session.id}"
    done = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["subscription", "line_items"]}
    )
    assert done.status == "complete"
    assert done.payment_status == "paid"
    assert done.customer.startswith("cus_")
    assert done.customer_details.email == "new@example.com"
    assert done.subscription.status == "active"
    assert done.subscription.default_payment_method == "pm_card_visa"
    assert done.client_reference_id == "user-7"
    assert done.line_items.data[0].amount_total == 1200
    assert client.v1.invoices.retrieve(done.invoice).status == "paid"
    types = [e["type"] for e in stripe_emulator.events()]
    assert types.index("customer.created") < types.index("customer.subscription.created")
    assert types[-1] == "checkout.session.completed"
    completed = stripe_emulator.events("checkout.session.completed")[0]["data"]["object"]
    assert completed["metadata"] == {"order": "o-1"}
    again = requests.post(stripe_emulator.url + pay, allow_redirects=False, timeout=5)
    assert again.status_code == 400


def test_checkout_like_a_browser_follows_the_redirects(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    plan = helpers.price(client)
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": plan.id, "quantity": 1}],
            "success_url": receiver.base + "/thanks?cs={CHECKOUT_SESSION_ID}",
            "cancel_url": receiver.base + "/pricing",
        }
    )
    browser = requests.Session()
    page = browser.get(session.url, timeout=5)
    forms = {a.rsplit("/", 1)[1]: stripe_emulator.url + a for a in _actions(page.text)}
    assert set(forms) == {"pay", "decline", "cancel"}
    declined = browser.post(forms["decline"], timeout=5)
    assert declined.status_code == 402
    assert "id='error'" in declined.text
    canceled = browser.post(forms["cancel"], timeout=5)
    assert canceled.url == receiver.base + "/pricing"
    paid = browser.post(forms["pay"], timeout=5)
    assert paid.status_code == 200
    assert paid.text == "shop page"
    assert paid.history[0].status_code == 303
    assert receiver.visits == ["/pricing", f"/thanks?cs={session.id}"]
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_checkout_with_existing_customer_and_trial(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client, None)
    session = _subscription_session(
        client, customer=cus.id, subscription_data={"trial_period_days": 7}
    )
    requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.customer == cus.id
    assert done.payment_status == "no_payment_required"
    assert client.v1.subscriptions.retrieve(done.subscription).status == "trialing"
    assert len(client.v1.customers.list().data) == 1


def test_checkout_declined_card_stays_open(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    session = _subscription_session(client)
    answer = requests.post(f"{session.url}/decline", allow_redirects=False, timeout=5)
    assert answer.status_code == 402
    assert "Your card was declined." in answer.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.subscriptions.list({"status": "all"}).data == []
    assert client.v1.customers.list().data == []


def test_checkout_cancel_redirects_and_expire(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    session = _subscription_session(client)
    answer = requests.post(f"{session.url}/cancel", allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["Location"] == CANCEL
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert (
        stripe_emulator.events("checkout.session.expired")[0]["data"]["object"]["id"] == session.id
    )
    later = _subscription_session(client)
    stripe_emulator.advance_clock(86_400 + 1)
    assert client.v1.checkout.sessions.retrieve(later.id).status == "expired"


def test_checkout_payment_mode_with_invoice(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    one_off = helpers.price(client, 4999, None)
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": one_off.id, "quantity": 2}],
            "success_url": "https://shop.example/ok",
            "invoice_creation": {"enabled": True},
        }
    )
    assert session.amount_total == 9998
    answer = requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    assert answer.headers["Location"] == "https://shop.example/ok"
    done = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent", "invoice"]}
    )
    assert done.payment_intent.status == "succeeded"
    assert done.payment_intent.amount_received == 9998
    assert done.invoice.status == "paid"
    assert done.subscription is None


def test_checkout_validation(client: stripe.StripeClient) -> None:
    plan = helpers.price(client)
    cus = helpers.customer(client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": [{"price": plan.id, "quantity": 1}]}
        )
    assert caught.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _subscription_session(client, customer=cus.id, customer_email="x@example.com")
    assert caught.value.param == "customer_email"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _subscription_session(client, mode="rental")
    assert caught.value.param == "mode"


def test_billing_portal_cancel_switch_and_return(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    basic = helpers.price(client, 1000, nickname="Basic")
    pro = helpers.price(client, 2500, nickname="Pro")
    sub = helpers.subscription(client, cus.id, basic.id)
    portal = client.v1.billing_portal.sessions.create(
        {"customer": cus.id, "return_url": "https://shop.example/account"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url.startswith(stripe_emulator.url)
    page = requests.get(portal.url, timeout=5).text
    assert sub.id in page
    assert "href='https://shop.example/account'" in page
    switch = requests.post(
        f"{portal.url}/switch",
        data={"subscription": sub.id, "price": pro.id},
        allow_redirects=False,
        timeout=5,
    )
    assert switch.status_code == 303
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == pro.id
    cancel = requests.post(f"{portal.url}/cancel", data={"subscription": sub.id}, timeout=5)
    assert cancel.status_code == 200  # followed the redirect back to the portal page
    assert "cancels at period end" in cancel.text
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
    requests.post(f"{portal.url}/renew", data={"subscription": sub.id}, timeout=5)
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    stranger = requests.post(f"{portal.url}/cancel", data={"subscription": "sub_other"}, timeout=5)
    assert stranger.status_code == 400
    assert len(stripe_emulator.events("customer.subscription.updated")) == 3


def test_hosted_invoice_page_and_pdf(client: stripe.StripeClient) -> None:
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client, 1999).id)
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    page = requests.get(invoice.hosted_invoice_url, timeout=5)
    assert page.status_code == 200
    assert invoice.number in page.text
    assert "Status: paid" in page.text
    issued = datetime.datetime.fromtimestamp(invoice.created, tz=datetime.UTC)
    assert f"<dt>Date of issue</dt><dd>{issued.day} {issued:%B %Y}</dd>" in page.text
    assert "<span class='ps-name'>Plan</span>" in page.text  # the product, not its line text
    assert "<td class='ps-num' id='total'>19.99 EUR</td>" in page.text
    pdf = requests.get(invoice.invoice_pdf, timeout=5)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert invoice.number.encode() in pdf.content
    xref = int(pdf.content.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf.content[xref : xref + 4] == b"xref"
    assert requests.get(invoice.hosted_invoice_url + "x", timeout=5).status_code == 404


def test_pay_checkout_session_shortcut(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    from django_payments_sync.testing.stripe_emulator.errors import StripeError

    session = _subscription_session(client)
    with pytest.raises(StripeError) as caught:
        stripe_emulator.pay_checkout_session(session.id, declined=True)
    assert caught.value.status == 402
    target = stripe_emulator.pay_checkout_session(session.id)
    assert target == f"https://shop.example/success?session={session.id}"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_portal_payment_method_update_recovers_a_past_due_subscription(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client).id)
    portal = client.v1.billing_portal.sessions.create({"customer": cus.id})
    requests.post(f"{portal.url}/payment_method", data={"card": "declined"}, timeout=5)
    assert (
        client.v1.customers.retrieve(cus.id).invoice_settings.default_payment_method
        == "pm_card_chargeDeclined"
    )
    stripe_emulator.advance_clock(31 * 86_400)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    page = requests.post(f"{portal.url}/payment_method", data={"card": "visa"}, timeout=5)
    assert "<dd>Visa ending in 4242 (pm_card_visa)</dd>" in page.text
    recovered = client.v1.subscriptions.retrieve(sub.id, {"expand": ["latest_invoice"]})
    assert recovered.status == "active"
    assert recovered.latest_invoice.status == "paid"


def test_checkout_page_reads_like_a_checkout(client: stripe.StripeClient) -> None:
    """Product and price names, amounts in the currency's decimals, what recurs, a trial."""
    plan = client.v1.prices.create(
        {
            "currency": "jpy",
            "unit_amount": 4500,
            "nickname": "Team monthly",
            "product_data": {"name": "Team <b>&</b> Co"},
            "recurring": {"interval": "month"},
        }
    )
    setup = helpers.price(client, 12000, None, currency="jpy")
    session = _subscription_session(client, subscription_data={"trial_period_days": 7})
    page = requests.get(session.url, timeout=5).text
    assert "<h2>Subscribe to Plan</h2>" in page
    assert "7 days free, then 12.00 EUR per month." in page
    mixed = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": plan.id, "quantity": 2}, {"price": setup.id, "quantity": 1}],
            "success_url": SUCCESS,
        }
    )
    page = requests.get(mixed.url, timeout=5).text
    assert "<h2>Subscribe to Team &lt;b&gt;&amp;&lt;/b&gt; Co and 1 more</h2>" in page
    assert "<p class='ps-big'>21,000 JPY</p>" in page  # due today: 2 x 4,500 + 12,000
    assert "<p class='ps-muted'>Then 9,000 JPY per month</p>" in page
    assert "Team monthly · Billed monthly" in page
    assert "4,500 JPY each" in page
    assert "One-time payment" in page
    assert "<td class='ps-num' id='total'>21,000 JPY</td>" in page
    assert re.search(r"<th scope='row' colspan='2'>Tax</th><td class='ps-num'>0 JPY</td>", page)
