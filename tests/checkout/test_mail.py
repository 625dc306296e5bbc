"""The MailerService: each mail, its links, the switch, host templates and translation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import translation

from django_payments_sync import signals
from django_payments_sync.backends import get_backend
from django_payments_sync.interactor.mailer import MailerService, format_amount
from django_payments_sync.models import Customer, ExternalCustomer, Subscription
from tests.checkout.conftest import LOCMEM_SETTINGS
from tests.factories import BillingInformationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer(user: Any) -> Customer:
    return Customer.objects.get(owner=user)


@pytest.fixture
def subscription(customer: Customer, monthly: Any) -> Subscription:
    return SubscriptionFactory(
        customer=customer,
        pricing=monthly,
        current_period_end=dt.datetime(2030, 5, 1, tzinfo=dt.UTC),
        trial_end=dt.datetime(2030, 4, 1, tzinfo=dt.UTC),
    )


def send(signal: Any, **kwargs: Any) -> None:
    signals.send_after_commit(signal, sender=Subscription, **kwargs)


def test_payment_succeeded_goes_to_the_billing_email_with_the_invoice_link(
    customer: Customer, subscription: Subscription
) -> None:
    BillingInformationFactory(customer=customer, email="accounts@alice.example")

    send(
        signals.payment_succeeded,
        customer=customer,
        subscription=subscription,
        order=None,
        amount=1500,
        currency="eur",
        invoice_id="in_1",
        hosted_invoice_url="https://pay.example/in_1",
    )

    [message] = mail.outbox
    assert message.to == ["accounts@alice.example"]
    assert message.subject == "Payment received: 15.00 EUR"
    assert "https://pay.example/in_1" in message.body
    assert 'href="https://pay.example/in_1"' in message.alternatives[0][0]


def test_payment_failed_links_the_portal(
    customer: Customer, subscription: Subscription, locmem: Any
) -> None:
    config = {**LOCMEM_SETTINGS, "PORTAL_RETURN_URL": "https://shop.example/account/"}
    # New settings build a new (empty) in-memory provider: the customer is pushed to it again.
    ExternalCustomer.objects.all().delete()
    with override_settings(PAYMENTS_SYNC=config):
        send(
            signals.payment_failed,
            customer=customer,
            subscription=subscription,
            order=None,
            amount=1500,
            currency="eur",
            invoice_id="in_2",
            hosted_invoice_url=None,
            failure_message="Your card was declined.",
        )
        [portal] = get_backend().portal_sessions.values()

    [message] = mail.outbox
    assert message.subject == "Your payment of 15.00 EUR failed"
    assert portal.url in message.body
    assert portal.return_url == "https://shop.example/account/"
    assert "Your card was declined." in message.body


def test_payment_failed_without_a_portal_still_says_what_to_do(
    customer: Customer, subscription: Subscription
) -> None:
    send(
        signals.payment_failed,
        customer=customer,
        subscription=subscription,
        order=None,
        amount=1500,
        currency="eur",
        invoice_id=None,
        hosted_invoice_url=None,
        failure_message="",
    )
    assert "update your payment method in your billing settings" in mail.outbox[0].body


def test_subscription_canceled_at_period_end_says_until_when(
    subscription: Subscription,
) -> None:
    send(
        signals.subscription_canceled,
        subscription=subscription,
        customer=subscription.customer,
        at_period_end=True,
    )
    [message] = mail.outbox
    assert message.subject == "Your subscription was canceled"
    assert "You keep access until May 1, 2030." in message.body


def test_trial_ending(subscription: Subscription) -> None:
    assert MailerService().send_trial_ending(subscription)
    assert "ends on April 1, 2030" in mail.outbox[0].body


def test_the_mail_setting_switches_everything_off(subscription: Subscription) -> None:
    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "MAIL": {"ENABLED": False}}):
        send(
            signals.subscription_canceled,
            subscription=subscription,
            customer=subscription.customer,
            at_period_end=False,
        )
        assert not MailerService().send_trial_ending(subscription)
        assert not MailerService().send_welcome(subscription.customer.owner)
    assert mail.outbox == []


def test_host_templates_override_ours(tmp_path: Path, subscription: Subscription) -> None:
    folder = tmp_path / "django_payments_sync" / "email"
    folder.mkdir(parents=True)
    (folder / "trial_ending_subject.txt").write_text("Heads up, {{ customer.email }}")
    templates = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [str(tmp_path)],
            "APP_DIRS": True,
        }
    ]
    with override_settings(TEMPLATES=templates):
        MailerService().send_trial_ending(subscription)
    assert mail.outbox[0].subject == "Heads up, alice@example.com"
    # The parts the host did not override are ours.
    assert "ends on" in mail.outbox[0].body


def test_mails_render_in_the_active_language(subscription: Subscription) -> None:
    with translation.override("de"):
        MailerService().send_trial_ending(subscription)
    # Dates are localized even before our catalogs are translated.
    assert "1. April 2030" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(1500, "eur", "15.00 EUR"), (5, "usd", "0.05 USD"), (1500, "jpy", "1500 JPY")],
)
def test_format_amount(amount: int, currency: str, shown: str) -> None:
    assert format_amount(amount, currency) == shown


def test_the_welcome_mail_links_the_password_setup_page(django_user_model: Any) -> None:
    from django.urls import path as url_path

    from django_payments_sync.adapter import get_adapter

    def confirm(request: Any, uidb64: str, token: str) -> None:
        raise AssertionError("never called")

    urlconf = type(
        "Urls",
        (),
        {
            "urlpatterns": [
                url_path("reset/<uidb64>/<token>/", confirm, name="password_reset_confirm")
            ]
        },
    )
    with override_settings(ROOT_URLCONF=urlconf):
        owner = get_adapter().get_or_create_user("fresh@example.com", "Fresh")

    [message] = mail.outbox
    assert message.subject == "Welcome"
    assert "/reset/" in message.body
    user = django_user_model.objects.get(email="fresh@example.com")
    assert owner == user
    from django.contrib.auth.tokens import default_token_generator

    token = message.body.split("/reset/")[1].split("/")[1]
    assert default_token_generator.check_token(user, token)
