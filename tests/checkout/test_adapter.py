"""The adapter's policy: who pays, users created at checkout, safe redirects, and mail."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.test import RequestFactory, override_settings

from django_payments_sync.adapter import DefaultPaymentsAdapter, get_adapter
from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured
from django_payments_sync.models import Customer
from tests.checkout.conftest import LOCMEM_SETTINGS
from tests.testapp.models import Organization

User = get_user_model()


@pytest.fixture
def adapter() -> DefaultPaymentsAdapter:
    return get_adapter()


def request_for(user: Any, host: str = "testserver", secure: bool = False) -> Any:
    request = RequestFactory().get("/", HTTP_HOST=host, secure=secure)
    request.user = user
    return request


@pytest.mark.django_db
def test_the_owner_is_the_user_by_default_and_nobody_for_anonymous(
    adapter: DefaultPaymentsAdapter, user: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert adapter.get_customer_owner(request_for(user)) == user
    assert adapter.get_customer_owner(request_for(AnonymousUser())) is None


@pytest.mark.django_db
def test_an_organization_owner_is_found_through_its_relation_to_users(
    adapter: DefaultPaymentsAdapter, user: Any, other_user: Any
) -> None:
    team = Organization.objects.create(name="Acme")
    team.members.add(user)
    with override_settings(PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL="testapp.Organization"):
        assert adapter.get_customer_owner(request_for(user)) == team
        assert adapter.get_customer_owner(request_for(other_user)) is None
        assert adapter.get_owner_email(team) == user.email
        assert adapter.get_owner_name(team) == "Acme"
        with pytest.raises(PaymentsSyncImproperlyConfigured, match="get_owner_for_user"):
            adapter.get_owner_for_user(other_user, create=True)


@pytest.mark.django_db
def test_owner_email_and_name_of_a_user(adapter: DefaultPaymentsAdapter, user: Any) -> None:
    assert adapter.get_owner_email(user) == "alice@example.com"
    assert adapter.get_owner_name(user) == "alice"
    user.first_name, user.last_name = "Alice", "Liddell"
    assert adapter.get_owner_name(user) == "Alice Liddell"


@pytest.mark.django_db(transaction=True)
def test_get_or_create_user_is_idempotent_per_email_and_welcomes_once(
    adapter: DefaultPaymentsAdapter,
) -> None:
    with transaction.atomic():
        owner = adapter.get_or_create_user("New.Buyer@Example.com ", "Nora Buyer")
        again = adapter.get_or_create_user("new.buyer@example.COM", "Someone Else")

    assert owner == again
    user = User.objects.get()
    assert (user.email, user.first_name, user.last_name) == (
        "new.buyer@example.com",
        "Nora",
        "Buyer",
    )
    assert not user.has_usable_password()
    # post_user_created ran after the commit (the receiver), and the welcome mail went once.
    assert Customer.objects.get().owner == user
    assert [m.to for m in mail.outbox] == [["new.buyer@example.com"]]
    assert "new.buyer@example.com" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_get_or_create_user_finds_an_existing_user_case_insensitively(
    adapter: DefaultPaymentsAdapter, user: Any
) -> None:
    mail.outbox.clear()
    assert adapter.get_or_create_user("ALICE@example.com") == user
    assert User.objects.count() == 1
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_for_one_email_create_one_user(adapter: DefaultPaymentsAdapter) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "threads need a shared database; run with PAYMENTS_SYNC_TEST_SQLITE or postgres"
        )
    barrier = threading.Barrier(4)
    owners: list[Any] = []
    errors: list[BaseException] = []

    def buy() -> None:
        try:
            barrier.wait()
            owners.append(adapter.get_or_create_user("race@example.com", "Race"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
    assert {owner.pk for owner in owners} == {User.objects.get().pk}


@pytest.mark.django_db
def test_a_long_email_gets_a_unique_username_that_fits(adapter: DefaultPaymentsAdapter) -> None:
    email = f"{'x' * 160}@example.com"
    username = adapter.generate_username(email)
    assert len(username) <= 150
    assert username != adapter.generate_username(f"{'x' * 160}@example.org")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("/thanks/", True),
        ("http://testserver/thanks/", True),
        ("http://localhost:8000/back", True),
        ("https://127.0.0.1/x", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("ftp://localhost/", False),
        ("", False),
    ],
)
def test_is_safe_url(adapter: DefaultPaymentsAdapter, url: str, safe: bool) -> None:
    assert adapter.is_safe_url(url, request_for(None)) is safe


def test_a_wildcard_allowed_hosts_does_not_open_redirects(adapter: DefaultPaymentsAdapter) -> None:
    with override_settings(ALLOWED_HOSTS=["*"]):
        assert not adapter.is_safe_url("https://evil.example/", request_for(None))
        assert adapter.is_safe_url("https://shop.example/ok", request_for(None, "shop.example"))
    assert not adapter.is_safe_url("http://testserver/x", request_for(None, secure=True))


@pytest.mark.django_db(transaction=True)
def test_send_mail_sends_text_and_html_after_commit_only(adapter: DefaultPaymentsAdapter) -> None:
    context = {"user": {"email": "a@example.com"}, "site_name": "Shop & Co"}
    with transaction.atomic():
        adapter.send_mail("django_payments_sync/email/welcome", ["a@example.com"], context)
        assert mail.outbox == []
    message = mail.outbox[0]
    assert message.subject == "Welcome to Shop & Co"
    assert message.from_email == "webmaster@localhost"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Shop &amp; Co" in html

    def send_then_fail() -> None:
        with transaction.atomic():
            adapter.send_mail("django_payments_sync/email/welcome", ["b@example.com"], context)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        send_then_fail()
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_from_address_comes_from_the_mail_setting(adapter: DefaultPaymentsAdapter) -> None:
    with override_settings(
        PAYMENTS_SYNC={**LOCMEM_SETTINGS, "MAIL": {"FROM_EMAIL": "billing@shop.example"}}
    ):
        get_adapter().send_mail("django_payments_sync/email/welcome", ["a@example.com"], {})
    assert mail.outbox[0].from_email == "billing@shop.example"
