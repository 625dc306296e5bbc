"""One account per link: the binding, the check before every call, ``payments_sync relink``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.stripe.backend import key_mode
from django_payments_sync.backends.types import METADATA_ID_KEY, METADATA_MODEL_KEY
from django_payments_sync.exceptions import AccountMismatch
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    Subscription,
    SyncState,
    SyncStatus,
)
from django_payments_sync.sync import accounts
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from tests.accounts.conftest import run, use_emulator
from tests.backends.helpers import WEBHOOK_SECRET
from tests.factories import CustomerFactory, PricingFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django_payments_sync.backends.locmem.LocmemBackend"
CHECKOUT_URL = "/api/payment/checkout/"
PORTAL_URL = "/api/payment/billing/portal/"
WEBHOOK_URL = "/api/payment/stripe/webhook/"


def use_locmem(settings: Any, account: str) -> Any:
    settings.PAYMENTS_SYNC = {
        "BACKEND": LOCMEM,
        "OPTIONS": {"account": account},
        "SELLER_COUNTRY": "DE",
    }
    return get_backend()


def all_links() -> list[Any]:
    return [
        *ExternalProduct.objects.all(),
        *ExternalPricing.objects.all(),
        *ExternalCustomer.objects.all(),
        *ExternalSubscription.objects.all(),
    ]


# --- account ids ------------------------------------------------------------------------------


def test_each_emulator_is_its_own_account_and_keeps_it_across_resets(
    stripe_emulator: StripeEmulator, other_emulator: StripeEmulator
) -> None:
    assert stripe_emulator.account_id.startswith("acct_")
    assert stripe_emulator.account_id != other_emulator.account_id
    before = other_emulator.account_id
    other_emulator.reset()
    assert other_emulator.account_id == before
    assert other_emulator.client().v1.accounts.retrieve_current().id == before
    with StripeEmulator(account_id="acct_chosen") as chosen:
        assert chosen.client().v1.accounts.retrieve_current().id == "acct_chosen"


def test_the_stripe_account_id_is_the_account_and_the_mode_asked_once(
    settings: Any, stripe_emulator: StripeEmulator
) -> None:
    backend = use_emulator(settings, stripe_emulator)
    assert backend.account_id() == f"{stripe_emulator.account_id}:test"
    assert backend.account_id() == f"{stripe_emulator.account_id}:test"
    assert backend.options["http_client"].log == [("GET", "/v1/account")]
    assert key_mode("sk_live_abc") == key_mode("rk_live_abc") == "live"
    assert key_mode("sk_test_abc") == key_mode("rk_test_abc") == "test"


def test_the_locmem_account_is_its_option(settings: Any) -> None:
    assert use_locmem(settings, "shop-a").account_id() == "shop-a"
    settings.PAYMENTS_SYNC = {"BACKEND": LOCMEM}
    assert get_backend().account_id() == "locmem"


# --- binding and the check --------------------------------------------------------------------


def test_the_first_push_binds_the_installation_and_every_link_records_the_account(
    settings: Any, stripe_emulator: StripeEmulator
) -> None:
    use_emulator(settings, stripe_emulator)
    PricingFactory()
    CustomerFactory()
    status, _, err = run("push")
    assert status == 0, err
    account = f"{stripe_emulator.account_id}:test"
    assert accounts.bound_account("stripe") == account
    links = all_links()
    assert len(links) == 3
    assert {link.account for link in links} == {account}


def test_a_push_with_credentials_of_another_account_stops_naming_both(
    settings: Any, stripe_emulator: StripeEmulator, other_emulator: StripeEmulator
) -> None:
    use_emulator(settings, stripe_emulator)
    PricingFactory()
    CustomerFactory()
    assert run("push")[0] == 0
    other = use_emulator(settings, other_emulator, api_key="sk_test_another_account")

    status, out, err = run("push")

    assert status == 1
    assert f"{stripe_emulator.account_id}:test" in err
    assert f"{other_emulator.account_id}:test" in err
    assert "payments_sync relink" in err
    assert "unchanged" not in out
    # Nothing but the account was asked of the other account.
    assert other.options["http_client"].log == [("GET", "/v1/account")]
    assert other_emulator.state()["objects"] == {}
    # diff stops the same way, before reading anything.
    status, _, err = run("diff")
    assert status == 1
    assert "relink" in err
    assert other.options["http_client"].log == [("GET", "/v1/account")]


def test_relink_moves_the_installation_and_push_creates_the_catalog_anew(
    settings: Any, stripe_emulator: StripeEmulator, other_emulator: StripeEmulator
) -> None:
    use_emulator(settings, stripe_emulator)
    pricing = PricingFactory()
    customer = CustomerFactory()
    assert run("push")[0] == 0
    subscription = SubscriptionFactory(customer=customer, pricing=pricing)
    ExternalSubscription.objects.create(
        provider="stripe", external_id="sub_old", subscription=subscription
    )
    old = f"{stripe_emulator.account_id}:test"
    new = f"{other_emulator.account_id}:test"
    use_emulator(settings, other_emulator, api_key="sk_test_another_account")

    status, out, _ = run("relink", "--dry-run")
    assert status == 0
    assert f"Would move the installation from {old} to {new}" in out
    assert "1 products, 1 prices, 1 customers, 1 subscriptions" in out
    assert len(all_links()) == 4

    status, _, err = run("relink", "--no-input")
    assert status == 1
    assert "--yes" in err
    assert len(all_links()) == 4

    status, out, _ = run("relink", "--yes")
    assert status == 0
    assert f"Moved the installation from {old} to {new}" in out
    assert "Removed links: 1 products, 1 prices, 1 customers, 1 subscriptions." in out
    assert re.search(rf"Subscription {subscription.pk} \[sub_old\] stays in {old}", out)
    assert all_links() == []
    assert Subscription.objects.filter(pk=subscription.pk).exists()
    assert Customer.objects.get(pk=customer.pk).sync_status == SyncStatus.PENDING
    assert accounts.bound_account("stripe") == new

    status, out, err = run("push")
    assert status == 0, err
    assert "3 created" in out
    client = other_emulator.client()
    assert [p.name for p in client.v1.products.list().data] == [pricing.product.name]
    assert len(client.v1.prices.list().data) == 1
    assert len(client.v1.customers.list().data) == 1
    assert {link.account for link in all_links()} == {new}
    assert run("relink", "--yes")[1].startswith(f"Already bound to {new}")


def test_vat_recheck_stops_before_pushing_into_another_account(settings: Any) -> None:
    use_locmem(settings, "shop-a")
    accounts.check_account()
    other = use_locmem(settings, "shop-b")
    status, _, err = run("vat", "recheck", "--force")
    assert status == 1
    assert "shop-a" in err
    assert "shop-b" in err
    assert other.calls == []


def test_links_without_an_account_count_as_the_bound_account(settings: Any) -> None:
    use_locmem(settings, "shop-a")
    customer = CustomerFactory()
    ExternalCustomer.objects.create(
        provider="locmem", external_id="cus_legacy", customer=customer, account=""
    )
    assert accounts.check_account() == "shop-a"
    assert accounts.relink(dry_run=True).changes_nothing
    use_locmem(settings, "shop-b")
    assert accounts.relink(dry_run=True).removed["customers"] == 1


def test_a_first_bind_race_keeps_the_first_account(settings: Any) -> None:
    SyncState.objects.create(key="account:locmem", value={"account": "shop-a"})
    use_locmem(settings, "shop-b")
    with pytest.raises(AccountMismatch) as caught:
        accounts.check_account()
    assert (caught.value.bound, caught.value.current) == ("shop-a", "shop-b")


# --- checkout, portal, autosync ---------------------------------------------------------------


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_checkout_and_portal_against_another_account_answer_a_clear_error(
    settings: Any, api: APIClient
) -> None:
    use_locmem(settings, "shop-a")
    pricing = PricingFactory()
    assert api.post(CHECKOUT_URL, {"pricing": pricing.pk}).status_code == 201
    other = use_locmem(settings, "shop-b")

    for response in (
        api.post(CHECKOUT_URL, {"pricing": pricing.pk}),
        api.post(PORTAL_URL, {}, format="json"),
    ):
        assert response.status_code == 502, response.content
        body = response.json()
        assert body["code"] == "account_mismatch"
        assert body["user_message"]
        assert "shop-a" not in body["user_message"]  # account ids are for the logs
    assert other.calls == []


def test_autosync_does_not_push_into_another_account(settings: Any) -> None:
    use_locmem(settings, "shop-a")
    customer = CustomerFactory()
    accounts.check_account()
    other = use_locmem(settings, "shop-b")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        customer.name = "Renamed"
        customer.save()
    assert other.write_calls == []


# --- webhooks ---------------------------------------------------------------------------------


def test_webhook_links_record_the_account_without_calls_and_with_one_query_per_process(
    settings: Any, stripe_emulator: StripeEmulator, client: Any
) -> None:
    backend = use_emulator(settings, stripe_emulator)
    account = accounts.check_account()
    accounts.clear_cache()  # a web worker that has not read the binding yet
    backend.options["http_client"].clear()
    customers = [CustomerFactory(), CustomerFactory()]
    provider = stripe_emulator.client()
    for customer in customers:
        provider.v1.customers.create(
            {
                "email": customer.email,
                "metadata": {
                    METADATA_ID_KEY: str(customer.pk),
                    METADATA_MODEL_KEY: Customer._meta.label_lower,
                },
            }
        )
    events = stripe_emulator.events("customer.created")
    assert len(events) == 2

    with CaptureQueriesContext(connection) as queries:
        for event in events:
            body, signature = stripe_emulator.signed_payload(event["id"], WEBHOOK_SECRET)
            response = client.post(
                WEBHOOK_URL,
                data=body,
                content_type="application/json",
                headers={"Stripe-Signature": signature},
            )
            assert response.status_code == 200, response.content

    assert {link.account for link in ExternalCustomer.objects.all()} == {account}
    assert ExternalCustomer.objects.count() == 2
    assert backend.options["http_client"].log == []
    binding_reads = [q for q in queries.captured_queries if "syncstate" in q["sql"].lower()]
    assert len(binding_reads) == 1
