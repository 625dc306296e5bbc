"""The installation id: random, created once in the database, in every idempotency key."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command

from django_payments_sync.exceptions import ProviderError
from django_payments_sync.interactor.orders import OrdersService
from django_payments_sync.models import Customer, ExternalCustomer, PaymentAttempt, SyncState
from django_payments_sync.sync import accounts
from django_payments_sync.sync.snapshots import idempotency_key
from tests.accounts.conftest import use_emulator
from tests.factories import CustomerFactory, PricingFactory, UserFactory


@pytest.mark.django_db
def test_the_installation_id_is_created_once_and_stored() -> None:
    first = accounts.installation_id()
    assert len(first) >= 12
    accounts.clear_cache()  # another process
    assert accounts.installation_id() == first
    assert SyncState.objects.get(key=accounts.INSTALLATION_KEY).value == {"id": first}


@pytest.mark.django_db
def test_a_deleted_row_makes_a_new_installation_in_the_same_process() -> None:
    first = accounts.installation_id()
    SyncState.objects.filter(key=accounts.INSTALLATION_KEY).delete()
    second = accounts.installation_id()
    assert second != first
    assert SyncState.objects.get(key=accounts.INSTALLATION_KEY).value == {"id": second}


@pytest.mark.django_db
def test_losing_the_race_answers_the_winners_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between our read (nothing there) and our insert, another process stored its id."""
    SyncState.objects.create(key=accounts.INSTALLATION_KEY, value={"id": "theirs0000000"})
    real_read = accounts._read
    reads: list[str] = []

    def first_read_misses(key: str) -> Any:
        reads.append(key)
        return None if len(reads) == 1 else real_read(key)

    monkeypatch.setattr(accounts, "_read", first_read_misses)
    assert accounts.installation_id() == "theirs0000000"
    assert SyncState.objects.filter(key=accounts.INSTALLATION_KEY).count() == 1


@pytest.mark.server_db
@pytest.mark.django_db(transaction=True)
def test_two_processes_racing_end_with_one_id() -> None:
    barrier = threading.Barrier(4)
    found: list[str] = []

    def racer() -> None:
        from django.db import connections

        try:
            barrier.wait()
            found.append(accounts.installation_id())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4
    assert len(set(found)) == 1
    assert SyncState.objects.filter(key=accounts.INSTALLATION_KEY).count() == 1


@pytest.mark.django_db
def test_every_idempotency_key_carries_the_installation_id(settings: Any) -> None:
    settings.PAYMENTS_SYNC = {"BACKEND": "django_payments_sync.backends.locmem.LocmemBackend"}
    customer = CustomerFactory()
    ident = accounts.installation_id()
    assert idempotency_key(customer, "create", "abc").startswith(f"payments-sync-{ident}-")


@pytest.mark.django_db(transaction=True)
def test_two_installations_on_one_account_both_check_out(
    settings: Any, stripe_emulator: Any
) -> None:
    """A laptop and staging (here: one database, flushed in between, so the second gets the same
    row numbers) open their first checkouts on one emulated Stripe account."""
    sessions = []
    for installation, email in enumerate(("laptop@example.com", "staging@example.com")):
        # A fresh database each (row numbers start again at 1).
        call_command("flush", interactive=False, verbosity=0)
        use_emulator(settings, stripe_emulator)
        user = UserFactory(email=email)
        # The default adapter gives each new user a customer.
        customer, _ = Customer.objects.get_or_create(owner=user, defaults={"email": email})
        pricing = PricingFactory(amount=1000 + installation)
        try:
            session = OrdersService().create_checkout(
                customer,
                pricing,
                1,
                success_url="https://shop.example/done/",
                cancel_url="https://shop.example/canceled/",
            )
        except ProviderError as exc:
            pytest.fail(f"installation {installation + 1}: {exc.code}: {exc}")
        attempt = PaymentAttempt.objects.get(order_id=session["order_id"])
        sessions.append(
            (attempt.pk, session["id"], ExternalCustomer.objects.get(customer=customer).external_id)
        )
    (first_pk, first_session, first_customer), (second_pk, second_session, second_customer) = (
        sessions
    )
    assert first_pk == second_pk  # the same key, were it not for the installation id
    assert first_session != second_session
    assert first_customer != second_customer
    stored = stripe_emulator.client().v1.checkout.sessions.retrieve(second_session)
    assert stored.customer == second_customer


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_is_a_new_installation_in_the_same_process() -> None:
    first = accounts.installation_id()  # outside a transaction: cached
    assert accounts.installation_id() == first
    call_command("flush", interactive=False, verbosity=0)
    second = accounts.installation_id()
    assert second != first
    assert SyncState.objects.get(key=accounts.INSTALLATION_KEY).value == {"id": second}
