"""``payments_sync reconcile``: from a database and a provider account that disagree on every
entity to a clean ``diff``, by the ownership rules, counting the provider calls."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from django_payments_sync.interactor.reconcile import (
    CHECKPOINT_KEY,
    TokenBucket,
    reconcile,
    save_checkpoint,
)
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Product,
    ProviderDeletion,
    Subscription,
    SyncState,
)
from django_payments_sync.sync.customers import sync_customer
from django_payments_sync.sync.push import diff, push_all
from tests.factories import (
    BillingInformationFactory,
    CustomerFactory,
    PricingFactory,
    ProductFactory,
    UserFactory,
)
from tests.sync.conftest import Provider


def payments_sync(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("payments_sync", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def drift(**kwargs: Any) -> list[str]:
    return sorted(d.describe() for d in diff(**kwargs) if d.is_drift)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(25, clock=clock, sleep=clock.sleep)
    for _ in range(25):
        assert bucket.take() == 0.0  # a second's worth at once
    for _ in range(50):
        bucket.take()
    # 75 operations take 2 s at 25 a second, after the first burst of 25.
    assert clock.now == pytest.approx(2.0)
    assert bucket.waited == pytest.approx(2.0)
    clock.now += 10  # idle: the bucket refills to its capacity, not beyond
    start = clock.now
    for _ in range(26):
        bucket.take()
    assert clock.now - start == pytest.approx(1 / 25)


def test_a_bucket_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


def _disagreeing_account(provider: Provider) -> dict[str, Any]:
    """A database and an account that disagree on products, prices, customers (every owner's
    fields), tax ids and subscriptions, the way lost events and dashboard edits leave them."""
    client: Any = provider.emulator.client()
    plan = ProductFactory(name="Pro")
    monthly = PricingFactory(product=plan, amount=1500, interval="month", nickname="Monthly")
    yearly = PricingFactory(product=plan, amount=15000, interval="year", nickname="Yearly")
    address_edit = BillingInformationFactory(tax_id="DE123456789").customer
    email_edit = CustomerFactory(email="old@example.com", name="Eve")
    BillingInformationFactory(customer=email_edit, email="old@example.com", name="Eve GmbH")
    host_rename = CustomerFactory(name="Before")
    deleted = CustomerFactory(name="Gone")
    assert push_all().failures == []
    ext = {
        c.pk: ExternalCustomer.objects.get(customer=c).external_id for c in Customer.objects.all()
    }
    price = {p.pk: ExternalPricing.objects.get(pricing=p).external_id for p in (monthly, yearly)}

    # Catalog: renamed locally without a push; a price's nickname edited in the dashboard.
    Product.objects.filter(pk=plan.pk).update(name="Pro (renamed)")
    client.v1.prices.update(price[yearly.pk], {"nickname": "Dashboard"})
    # Customers: the dashboard edits a host-owned field (address) and a shared one (email),
    # removes a VAT id, deletes a customer; the host renames one without a push; one is new.
    client.v1.customers.update(ext[address_edit.pk], {"address": {"line1": "Elsewhere 1"}})
    (tax_id,) = client.v1.customers.tax_ids.list(ext[address_edit.pk]).data
    client.v1.customers.tax_ids.delete(ext[address_edit.pk], tax_id.id)
    client.v1.customers.update(
        ext[email_edit.pk],
        {
            "email": "new@example.com",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        },
    )
    Customer.objects.filter(pk=host_rename.pk).update(name="After")
    client.v1.customers.update(
        ext[host_rename.pk], {"invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    client.v1.customers.delete(ext[deleted.pk])
    new = CustomerFactory(name="New")
    # Subscriptions: one applied locally with stale values, one no local row knows.
    stale = client.v1.subscriptions.create(
        {"customer": ext[email_edit.pk], "items": [{"price": price[monthly.pk]}]}
    )
    item = stale["items"]["data"][0]["id"]
    client.v1.subscriptions.update(
        stale.id, {"items": [{"id": item, "quantity": 4}], "cancel_at_period_end": True}
    )
    local_stale = Subscription.objects.create(
        customer=email_edit, pricing=monthly, quantity=1, status="incomplete", sync_status="synced"
    )
    ExternalSubscription.objects.create(
        provider="stripe", external_id=stale.id, subscription=local_stale
    )
    unknown = client.v1.subscriptions.create(
        {"customer": ext[host_rename.pk], "items": [{"price": price[yearly.pk]}]}
    )
    return {
        "address_edit": address_edit,
        "email_edit": email_edit,
        "host_rename": host_rename,
        "deleted": deleted,
        "new": new,
        "ext": ext,
        "stale": stale.id,
        "unknown": unknown.id,
        "plan": plan,
    }


def test_reconcile_repairs_every_entity_by_its_owner(stripe_provider: Provider) -> None:
    provider = stripe_provider
    world = _disagreeing_account(provider)
    before = drift()
    assert len(before) >= 8, before
    kinds = {line.split(" ")[0] for line in before}
    assert kinds == {"product", "price", "customer", "subscription"}

    provider.clear()
    report = reconcile(rate=1000)
    calls = provider.calls()
    assert report.failures == [], report.repairs
    assert drift() == [], (report.repairs, before)

    # The host's fields went to the provider, the provider's came home.
    remote = {c.id: c for c in provider.backend.list_customers(with_tax_ids=True)}
    assert remote[world["ext"][world["address_edit"].pk]].address.line1 != "Elsewhere 1"
    assert remote[world["ext"][world["address_edit"].pk]].tax_ids == (("eu_vat", "DE123456789"),)
    email_edit = Customer.objects.get(pk=world["email_edit"].pk)
    billing = BillingInformation.objects.get(customer=email_edit)
    assert email_edit.email == billing.email == "new@example.com"
    assert remote[world["ext"][world["host_rename"].pk]].name == "After"
    # The deleted customer stays deleted: recorded, not re-created, listed apart by diff.
    assert world["ext"][world["deleted"].pk] not in remote
    assert ProviderDeletion.objects.filter(external_id=world["ext"][world["deleted"].pk]).exists()
    assert [d.kind for d in diff() if not d.is_drift] == ["deleted"]
    assert (
        len(
            [
                c
                for c in remote.values()
                if c.metadata.get("payments_sync_id") == str(world["deleted"].pk)
            ]
        )
        == 0
    )
    # The new customer was created; the subscriptions are the provider's.
    assert ExternalCustomer.objects.filter(customer=world["new"]).exists()
    stale = ExternalSubscription.objects.get(external_id=world["stale"]).subscription
    assert (stale.status, stale.quantity, stale.cancel_at_period_end) == ("active", 4, True)
    assert ExternalSubscription.objects.filter(external_id=world["unknown"]).exists()

    # Calls: one listing per kind (one page each here) and one write per repair.
    reads = [c for c in calls if c[0] == "read"]
    writes = [c for c in calls if c[0] == "write"]
    assert len(reads) <= 6, reads
    assert len(writes) <= 8, writes
    assert report.calls == len(calls)
    print(f"reconcile: {len(report.repairs)} repairs, {len(reads)} reads, {len(writes)} writes")

    # A second run finds nothing and writes nothing.
    provider.clear()
    again = reconcile(rate=1000)
    assert [r for r in again.repairs] == []
    assert [c for c in provider.calls() if c[0] == "write"] == []


def test_a_dry_run_reports_and_changes_nothing(stripe_provider: Provider) -> None:
    _disagreeing_account(stripe_provider)
    before = drift()
    stripe_provider.clear()
    report = reconcile(dry_run=True, rate=1000)
    assert report.repairs
    assert [c for c in stripe_provider.calls() if c[0] == "write"] == []
    assert drift() == before
    assert not SyncState.objects.filter(key=CHECKPOINT_KEY).exists()


def test_the_command_prints_a_summary_and_a_clean_diff_follows(stripe_provider: Provider) -> None:
    _disagreeing_account(stripe_provider)
    assert payments_sync("diff")[0] == 1
    status, out, err = payments_sync("reconcile", "--rate", "1000")
    assert status == 0, err
    assert "Reconciled:" in out
    assert "provider calls" in out
    assert "[" in err  # the progress bar
    status, out, _ = payments_sync("diff")
    assert status == 0, out
    assert "No drift" in out


def test_the_command_refuses_a_bad_rate(stripe_provider: Provider) -> None:
    with pytest.raises(Exception, match=r"positive rate|not a number"):
        payments_sync("reconcile", "--rate", "0")


def test_an_interrupted_run_resumes_from_its_checkpoint(stripe_provider: Provider) -> None:
    customers = [CustomerFactory(name=f"C{i}") for i in range(4)]
    push_all()
    for c in customers:
        Customer.objects.filter(pk=c.pk).update(name=f"{c.name} renamed")
    # A run that stopped after the second customer.
    save_checkpoint("customers", customers[1].pk)
    stripe_provider.clear()
    report = reconcile(rate=1000)
    assert report.resumed_from == {
        "phase": "customers",
        "after": customers[1].pk,
        "at": report.resumed_from["at"],
    }
    pushed = sorted(int(r.local_id) for r in report.repairs if r.object_type == "customer")
    assert pushed == [customers[2].pk, customers[3].pk]
    assert not SyncState.objects.filter(key=CHECKPOINT_KEY).exists()
    # The next run starts from the beginning and repairs the rest.
    report = reconcile(rate=1000)
    assert sorted(int(r.local_id) for r in report.repairs) == [customers[0].pk, customers[1].pk]
    assert drift() == []


def test_adopt_takes_over_an_account_filled_by_other_means(stripe_provider: Provider) -> None:
    client: Any = stripe_provider.emulator.client()
    by_email = UserFactory(email="known@example.com")
    known = (
        Customer.objects.get(owner=by_email)
        if Customer.objects.filter(owner=by_email).exists()
        else CustomerFactory(owner=by_email)
    )
    theirs_known = client.v1.customers.create({"email": "known@example.com", "name": "Known"})
    theirs_new = client.v1.customers.create({"email": "stranger@example.com", "name": "Stranger"})
    status, out, _ = payments_sync("reconcile", "--adopt", "--dry-run", "--rate", "1000")
    assert "would be customer" in out
    assert "linked by email" in out
    assert "created locally" in out
    assert not ExternalCustomer.objects.exists()
    status, out, err = payments_sync("reconcile", "--adopt", "--rate", "1000")
    assert status == 0, err
    assert ExternalCustomer.objects.get(external_id=theirs_known.id).customer == known
    adopted = ExternalCustomer.objects.get(external_id=theirs_new.id).customer
    assert (adopted.email, adopted.name) == ("stranger@example.com", "Stranger")
    assert payments_sync("diff")[0] == 0


def test_sync_customer_after_reconcile_is_unchanged(stripe_provider: Provider) -> None:
    customer = BillingInformationFactory().customer
    push_all()
    reconcile(rate=1000)
    stripe_provider.clear()
    assert sync_customer(customer).action.value == "unchanged"
    assert stripe_provider.calls() == []


def test_adopt_takes_over_the_catalog_and_the_subscriptions_too(stripe_provider: Provider) -> None:
    """An account filled by another integration: its products, prices, customers and
    subscriptions become local rows; the prices keep their ids (no replacement)."""
    client: Any = stripe_provider.emulator.client()
    product = client.v1.products.create({"name": "Legacy plan", "metadata": {"tier": "gold"}})
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 4200,
            "currency": "eur",
            "recurring": {"interval": "month"},
            "nickname": "Legacy monthly",
        }
    )
    customer = client.v1.customers.create(
        {
            "email": "legacy@example.com",
            "name": "Legacy",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id, "quantity": 3}]}
    )
    status, out, err = payments_sync("reconcile", "--adopt", "--rate", "1000")
    assert status == 0, (out, err)
    local_price = ExternalPricing.objects.get(external_id=price.id).pricing
    assert (local_price.amount, local_price.currency, local_price.interval) == (
        4200,
        "eur",
        "month",
    )
    assert local_price.product.name == "Legacy plan"
    assert local_price.product.metadata == {"tier": "gold"}
    local_sub = ExternalSubscription.objects.get(external_id=sub.id).subscription
    assert (local_sub.pricing, local_sub.quantity, local_sub.status) == (local_price, 3, "active")
    assert local_sub.customer.email == "legacy@example.com"
    # The price was updated in place (our identity added), never replaced.
    (remote_price,) = stripe_provider.backend.list_prices()
    assert remote_price.id == price.id
    assert remote_price.metadata["payments_sync_id"] == str(local_price.pk)
    assert payments_sync("diff")[0] == 0
    assert Product.objects.count() == 1


def test_adopt_keeps_a_metered_price_metered(stripe_provider: Provider) -> None:
    """A metered price made in the dashboard, on a meter of ours: adopted on that meter, in
    place (the diff finds nothing, the price is not replaced)."""
    from django_payments_sync.models import ExternalMeter, Meter
    from django_payments_sync.sync.meters import push_meters

    calls = Meter.objects.create(display_name="Calls", event_name="calls")
    push_meters()
    meter_id = ExternalMeter.objects.get(meter=calls).external_id
    client: Any = stripe_provider.emulator.client()
    product = client.v1.products.create({"name": "Usage"})
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 3,
            "currency": "eur",
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id},
        }
    )
    status, out, err = payments_sync("reconcile", "--adopt", "--rate", "1000")
    assert status == 0, (out, err)
    local_price = ExternalPricing.objects.get(external_id=price.id).pricing
    assert (local_price.meter, local_price.is_metered) == (calls, True)
    assert payments_sync("diff")[0] == 0
    assert [p.id for p in stripe_provider.backend.list_prices()] == [price.id]
