"""Includable `expand[]` fields and the routes dj-stripe calls: accounts list, top-level tax IDs."""

from __future__ import annotations

import pytest
import requests
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from . import helpers

HEADERS = {"Authorization": "Bearer sk_test_x"}


def test_customer_expands_sources_and_default_source(client: stripe.StripeClient) -> None:
    customer = helpers.customer(client)
    assert "sources" not in customer
    got = client.v1.customers.retrieve(
        customer.id, {"expand": ["default_source", "sources", "tax_ids"]}
    )
    assert got.default_source is None
    assert got.sources is not None
    assert got.sources["object"] == "list"
    assert got.sources.data == []
    assert got.sources.url == f"/v1/customers/{customer.id}/sources"
    assert got.tax_ids is not None
    assert got.tax_ids.data == []
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.customers.retrieve(customer.id, {"expand": ["no_such_field"]})
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.customers.retrieve(customer.id, {"expand": ["invoice_settings.sources"]})


def test_customer_expand_over_http_as_dj_stripe_asks(stripe_emulator: StripeEmulator) -> None:
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_emulator.url})
    customer = helpers.customer(client)
    answer = requests.get(
        f"{stripe_emulator.url}/v1/customers/{customer.id}"
        "?expand[]=default_source&expand[]=sources",
        headers=HEADERS,
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["default_source"] is None
    assert body["sources"]["data"] == []


def test_top_level_tax_ids(client: stripe.StripeClient) -> None:
    customer = helpers.customer(client)
    other = helpers.customer(client)
    tax_id = client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "DE123456789"}
    )
    got = client.v1.tax_ids.retrieve(tax_id.id)
    assert got.id == tax_id.id
    assert got.owner is not None
    assert got.owner.customer == customer.id
    assert got.owner.type == "customer"
    mine = client.v1.tax_ids.list({"owner": {"type": "customer", "customer": customer.id}})
    assert [t.id for t in mine.data] == [tax_id.id]
    assert mine.url == "/v1/tax_ids"
    theirs = client.v1.tax_ids.list({"owner": {"type": "customer", "customer": other.id}})
    assert theirs.data == []
    # Without an owner, the platform's own tax IDs: none are modelled.
    assert client.v1.tax_ids.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.tax_ids.retrieve("txi_missing")
    assert missing.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError, match=r"owner\[customer\]"):
        client.v1.tax_ids.list({"owner": {"type": "customer"}})
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.tax_ids.list({"owner": {"type": "customer", "customer": "cus_missing"}})
    assert unknown.value.http_status == 404
    client.v1.customers.tax_ids.delete(customer.id, tax_id.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.tax_ids.retrieve(tax_id.id)


def test_accounts_list_is_empty(client: stripe.StripeClient) -> None:
    accounts = client.v1.accounts.list({"limit": 100})
    assert accounts["object"] == "list"
    assert accounts.data == []
    assert accounts.has_more is False
    assert accounts.url == "/v1/accounts"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.list({"limit": 0})


def test_checkout_session_expands_line_items_and_breakdown(client: stripe.StripeClient) -> None:
    plan = helpers.price(client, 1200)
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": plan.id, "quantity": 3}],
            "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/no",
        }
    )
    assert "line_items" not in session
    got = client.v1.checkout.sessions.retrieve(
        session.id,
        {"expand": ["line_items", "total_details.breakdown", "line_items.data.discounts"]},
    )
    assert got.line_items is not None
    (line,) = got.line_items.data
    assert line.object == "item"
    assert line.quantity == 3
    assert line.amount_total == 3600
    assert line.price is not None
    assert line.price.id == plan.id
    assert line.discounts == []
    assert got.total_details is not None
    assert got.total_details.breakdown is not None
    assert got.total_details.breakdown.discounts == []
    assert got.total_details.breakdown.taxes == []
    # The nested path alone expands the list on the way.
    alone = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["line_items.data.price.product"]}
    )
    assert alone.line_items is not None
    product = alone.line_items.data[0].price.product  # type: ignore[union-attr]
    assert isinstance(product, stripe.Product)
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.checkout.sessions.retrieve(session.id, {"expand": ["total_details.nope"]})


def test_prices_expand_currency_options_product_and_tiers(client: stripe.StripeClient) -> None:
    plan = helpers.price(client, 900)
    prices = client.v1.prices.list(
        {"expand": ["data.currency_options", "data.product", "data.tiers"], "limit": 100}
    )
    (got,) = [p for p in prices.data if p.id == plan.id]
    assert got.currency_options is not None
    assert got.currency_options.to_dict() == {
        "eur": {
            "custom_unit_amount": None,
            "tax_behavior": "unspecified",
            "unit_amount": 900,
            "unit_amount_decimal": "900",
        }
    }
    assert isinstance(got.product, stripe.Product)
    # A per-unit price has no tiers: the field stays out, as Stripe's fixture shows.
    assert got.billing_scheme == "per_unit"
    assert "tiers" not in got
    one = client.v1.prices.retrieve(plan.id, {"expand": ["currency_options"]})
    assert one.currency_options is not None
    assert "eur" in one.currency_options
