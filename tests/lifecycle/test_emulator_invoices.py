"""Invoices end to end against the Stripe emulator: the real SDK over HTTP, its webhooks to a
live server, the local Invoice records, the API and the invoice mail with the PDF link."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.core import mail
from rest_framework.test import APIClient

from django_payments_sync.models import Invoice, Subscription
from tests.checkout.test_emulator_e2e import DAY, checkout, press, settle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
INVOICES_URL = "/api/payment/invoices/"


def test_invoices_of_a_subscription_are_recorded_listed_and_mailed(
    shop: Any,
    api: APIClient,
    other_api: APIClient,
    user: Any,
    monthly: Any,
) -> None:
    session = checkout(api, monthly, quantity=2)
    press(session["url"], "pay")
    settle(shop)
    shop.advance_clock(32 * DAY)
    settle(shop)

    subscription = Subscription.objects.get()
    remote = shop.client().v1.invoices.list(
        {"customer": shop.events("invoice.paid")[0]["data"]["object"]["customer"]}
    )
    assert len(remote.data) == 2
    rows = list(Invoice.objects.all())
    assert {r.external_id for r in rows} == {i.id for i in remote.data}
    for row in rows:
        at_stripe = next(i for i in remote.data if i.id == row.external_id)
        assert (row.number, row.status, row.total, row.amount_paid) == (
            at_stripe.number,
            "paid",
            3000,
            3000,
        )
        assert (row.subscription, row.customer) == (subscription, subscription.customer)
        assert row.invoice_pdf == at_stripe.invoice_pdf
        assert row.issued_at is not None
        assert row.paid_at is not None
    assert {r.billing_reason for r in rows} == {"subscription_create", "subscription_cycle"}

    listed = api.get(INVOICES_URL).json()
    assert [i["billing_reason"] for i in listed] == ["subscription_cycle", "subscription_create"]
    assert listed[0]["period_end"] is not None
    assert other_api.get(INVOICES_URL).json() == []

    receipts = [m for m in mail.outbox if m.subject == "Payment received: 30.00 EUR"]
    assert len(receipts) == 2
    for receipt, row in zip(receipts, sorted(rows, key=lambda r: r.issued_at), strict=True):
        assert f"Invoice {row.number}" in receipt.body
        assert row.invoice_pdf in receipt.body
    pdf = requests.get(rows[0].invoice_pdf, timeout=10)
    assert (pdf.status_code, pdf.headers["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
