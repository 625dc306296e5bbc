"""Account, customers, tax IDs, products, features, prices, webhook endpoints and events."""

from __future__ import annotations

import pytest
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from . import helpers


def test_account(client: stripe.StripeClient) -> None:
    account = client.v1.accounts.retrieve_current()
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert account.charges_enabled is True


def test_customer_lifecycle(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    cus = client.v1.customers.create(
        {
            "email": "ann@example.com",
            "name": "Ann",
            "metadata": {"user": "42"},
            "address": {"country": "DE", "city": "Berlin"},
        }
    )
    assert cus.id.startswith("cus_")
    assert cus.livemode is False
    assert cus.delinquent is False
    assert cus.tax_exempt == "none"
    assert cus.address.country == "DE"
    assert cus.discount is None
    assert abs(cus.created - stripe_emulator.now()) < 5
    updated = client.v1.customers.update(
        cus.id, {"tax_exempt": "reverse", "metadata": {"user": "", "plan": "pro"}}
    )
    assert updated.tax_exempt == "reverse"
    assert updated.metadata.to_dict() == {"plan": "pro"}
    assert client.v1.customers.retrieve(cus.id).tax_exempt == "reverse"
    deleted = client.v1.customers.delete(cus.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(cus.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.update(cus.id, {"name": "gone"})
    types = [e["type"] for e in stripe_emulator.events()]
    assert types == ["customer.created", "customer.updated", "customer.deleted"]
    previous = stripe_emulator.events("customer.updated")[0]["data"]["previous_attributes"]
    assert previous == {"tax_exempt": "none", "metadata": {"user": "42", "plan": None}}


def test_customer_list_filters(client: stripe.StripeClient) -> None:
    a = client.v1.customers.create({"email": "a@example.com"})
    client.v1.customers.create({"email": "b@example.com"})
    assert [c.id for c in client.v1.customers.list({"email": "a@example.com"}).data] == [a.id]
    assert client.v1.customers.list({"email": "zzz@example.com"}).data == []
    assert len(client.v1.customers.list({"created": {"gte": a.created}}).data) == 2
    assert client.v1.customers.list({"created": {"lt": a.created}}).data == []


def test_tax_ids_with_vat_verification(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    cus = client.v1.customers.create({"name": "GmbH"})
    tax_id = client.v1.customers.tax_ids.create(cus.id, {"type": "eu_vat", "value": "DE123456789"})
    assert tax_id.id.startswith("txi_")
    assert tax_id.country == "DE"
    assert tax_id.verification.status == "pending"
    assert tax_id.owner.customer == cus.id
    verified = client.v1.customers.tax_ids.retrieve(cus.id, tax_id.id)
    assert verified.verification.status == "verified"
    bad = client.v1.customers.tax_ids.create(cus.id, {"type": "eu_vat", "value": "FR000000000"})
    assert client.v1.customers.tax_ids.retrieve(cus.id, bad.id).verification.status == "unverified"
    other = client.v1.customers.tax_ids.create(cus.id, {"type": "us_ein", "value": "12-3456789"})
    assert other.verification is None
    listed = client.v1.customers.tax_ids.list(cus.id)
    assert [t.id for t in listed.data] == [other.id, bad.id, tax_id.id]
    assert client.v1.customers.tax_ids.delete(cus.id, bad.id).deleted is True
    assert len(client.v1.customers.tax_ids.list(cus.id).data) == 2
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.tax_ids.create(cus.id, {"type": "eu_vat", "value": "nonsense!"})
    assert caught.value.code == "tax_id_invalid"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.tax_ids.create(cus.id, {"type": "xx_vat", "value": "1"})  # type: ignore[typeddict-item]
    assert caught.value.param == "type"
    types = [e["type"] for e in stripe_emulator.events() if e["type"].startswith("customer.tax_id")]
    assert types == [
        "customer.tax_id.created",
        "customer.tax_id.updated",
        "customer.tax_id.created",
        "customer.tax_id.updated",
        "customer.tax_id.created",
        "customer.tax_id.deleted",
    ]
    update = stripe_emulator.events("customer.tax_id.updated")[0]["data"]
    assert update["previous_attributes"]["verification"]["status"] == "pending"


def test_products_archive_delete_and_filters(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    basic = client.v1.products.create({"name": "Basic", "metadata": {"tier": "1"}})
    pro = client.v1.products.create({"name": "Pro", "id": "prod_pro"})
    assert basic.id.startswith("prod_")
    assert pro.id == "prod_pro"
    assert basic.active is True
    assert basic.default_price is None
    archived = client.v1.products.update(basic.id, {"active": False})
    assert archived.active is False
    assert [p.id for p in client.v1.products.list({"active": True}).data] == [pro.id]
    assert [p.id for p in client.v1.products.list({"active": False}).data] == [basic.id]
    assert [p.id for p in client.v1.products.list({"ids": [basic.id]}).data] == [basic.id]
    helpers.price(client, product=pro.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.delete(pro.id)
    assert "user-created prices" in str(caught.value)
    assert client.v1.products.delete(basic.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.retrieve(basic.id)
    types = [e["type"] for e in stripe_emulator.events() if e["type"].startswith("product.")]
    assert types == ["product.created", "product.created", "product.updated", "product.deleted"]


def test_product_with_default_price_data(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(
        {
            "name": "Gold",
            "default_price_data": {
                "currency": "eur",
                "unit_amount": 900,
                "recurring": {"interval": "month"},
            },
            "expand": ["default_price"],
        }
    )
    assert product.default_price.unit_amount == 900
    assert product.default_price.product == product.id


def test_product_features(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Pro"})
    feature = client.v1.entitlements.features.create({"name": "API access", "lookup_key": "api"})
    attached = client.v1.products.features.create(product.id, {"entitlement_feature": feature.id})
    assert attached.object == "product_feature"
    assert attached.entitlement_feature.lookup_key == "api"
    listed = client.v1.products.features.list(product.id)
    assert [f.id for f in listed.data] == [attached.id]
    assert client.v1.products.features.delete(product.id, attached.id).deleted is True
    assert client.v1.products.features.list(product.id).data == []


def test_prices_and_filters(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    product = client.v1.products.create({"name": "Pro"})
    monthly = helpers.price(client, 1500, "month", product=product.id, lookup_key="pro_m")
    yearly = helpers.price(client, 15000, "year", product=product.id)
    once = helpers.price(client, 500, None, product=product.id)
    assert monthly.id.startswith("price_")
    assert monthly.type == "recurring"
    assert once.type == "one_time"
    assert monthly.recurring.interval == "month"
    assert monthly.recurring.interval_count == 1
    assert str(monthly.unit_amount_decimal) == "1500"
    assert once.recurring is None
    assert [
        p.id for p in client.v1.prices.list({"product": product.id, "type": "one_time"}).data
    ] == [once.id]
    assert {p.id for p in client.v1.prices.list({"type": "recurring"}).data} == {
        monthly.id,
        yearly.id,
    }
    updated = client.v1.prices.update(yearly.id, {"active": False, "nickname": "Yearly"})
    assert updated.active is False
    assert updated.nickname == "Yearly"
    assert yearly.id not in {p.id for p in client.v1.prices.list({"active": True}).data}
    assert [p.id for p in client.v1.prices.list({"lookup_keys": ["pro_m"]}).data] == [monthly.id]
    update = stripe_emulator.events("price.updated")[0]
    assert update["data"]["previous_attributes"] == {"active": True, "nickname": None}


def test_webhook_endpoints(client: stripe.StripeClient) -> None:
    created = client.v1.webhook_endpoints.create(
        {"url": "https://example.com/hook", "enabled_events": ["customer.created", "invoice.paid"]}
    )
    assert created.id.startswith("we_")
    assert created.secret.startswith("whsec_")
    assert created.status == "enabled"
    listed = client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [created.id]
    assert "secret" not in listed.data[0]
    updated = client.v1.webhook_endpoints.update(created.id, {"disabled": True})
    assert updated.status == "disabled"
    assert client.v1.webhook_endpoints.delete(created.id).deleted is True
    assert client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create(
            {"url": "https://example.com/hook", "enabled_events": ["customer.exploded"]}  # type: ignore[list-item]
        )
    assert caught.value.param == "enabled_events[0]"


def test_events_list_and_retrieve(client: stripe.StripeClient) -> None:
    from stripe._api_version import _ApiVersion

    cus = client.v1.customers.create({"name": "E"})
    client.v1.customers.update(cus.id, {"name": "F"})
    product = client.v1.products.create({"name": "P"})
    events = client.v1.events.list()
    assert [e.type for e in events.data] == [
        "product.created",
        "customer.updated",
        "customer.created",
    ]
    first = events.data[-1]
    assert first.id.startswith("evt_")
    assert first.api_version == _ApiVersion.CURRENT
    assert first.data.object.id == cus.id
    assert first.livemode is False
    assert client.v1.events.retrieve(first.id).type == "customer.created"
    assert [e.type for e in client.v1.events.list({"type": "customer.*"}).data] == [
        "customer.updated",
        "customer.created",
    ]
    assert [
        e.data.object.id for e in client.v1.events.list({"types": ["product.created"]}).data
    ] == [product.id]
    assert len(client.v1.events.list({"created": {"gte": first.created}}).data) == 3
    assert events.data[1].data.previous_attributes.name == "E"
