"""The MailerService: templated mails to customers about payments, subscriptions and accounts."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from django.contrib.auth.tokens import default_token_generator
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from django_payments_sync import currencies, signals
from django_payments_sync.conf import payments_settings

if TYPE_CHECKING:
    from django_payments_sync.adapter import DefaultPaymentsAdapter
    from django_payments_sync.models import Customer, Subscription

logger = logging.getLogger(__name__)

#: Template prefixes, under ``templates/django_payments_sync/email/``.
PAYMENT_SUCCEEDED = "django_payments_sync/email/payment_succeeded"
PAYMENT_FAILED = "django_payments_sync/email/payment_failed"
SUBSCRIPTION_CANCELED = "django_payments_sync/email/subscription_canceled"
TRIAL_ENDING = "django_payments_sync/email/trial_ending"
WELCOME = "django_payments_sync/email/welcome"
PAYMENT_ACTION_REQUIRED = "django_payments_sync/email/payment_action_required"
REFUNDED = "django_payments_sync/email/refunded"


def mail_enabled() -> bool:
    return bool(payments_settings.MAIL.get("ENABLED", True))


class MailerService:
    """Builds each mail's context and hands it to the adapter's ``send_mail`` (after commit)."""

    def __init__(self, adapter: DefaultPaymentsAdapter | None = None) -> None:
        if adapter is None:
            from django_payments_sync.conf import get_adapter

            adapter = get_adapter()
        self.adapter = adapter

    def _send(self, prefix: str, customer: Customer | None, to: str, **context: Any) -> bool:
        if not mail_enabled() or not to:
            return False
        context.setdefault("customer", customer)
        context.setdefault("site_name", self.adapter.get_site_name())
        self.adapter.send_mail(prefix, [to], context)
        return True

    def recipient(self, customer: Customer | None) -> str:
        """The billing email when there is one, else the customer's."""
        if customer is None:
            return ""
        # RelatedObjectDoesNotExist is an AttributeError: no billing information yet.
        billing = getattr(customer, "billing_information", None)
        return (billing.email if billing is not None else "") or customer.email

    def portal_url(self, customer: Customer) -> str | None:
        """A link to the provider's portal for the payment-failed mail, when one can be made."""
        return_url = payments_settings.PORTAL_RETURN_URL
        if not return_url or not str(return_url).startswith(("http://", "https://")):
            return None
        try:
            from django_payments_sync.interactor.provider import backend, ensure_customer_id

            session = backend().create_portal_session(ensure_customer_id(customer), return_url)
        except Exception:  # a mail without the link beats no mail
            logger.exception("No portal link for the payment-failed mail of %s", customer.pk)
            return None
        return session.url

    # --- the mails --------------------------------------------------------------------------
    def send_payment_succeeded(
        self,
        customer: Customer,
        *,
        amount: int,
        currency: str,
        subscription: Subscription | None = None,
        order: Any = None,
        hosted_invoice_url: str | None = None,
        **extra: Any,
    ) -> bool:
        """The receipt; for an invoice, the invoice mail: its number and PDF link."""
        invoice = extra.get("invoice") or _local_invoice(extra.get("invoice_id"))
        return self._send_payment(
            PAYMENT_SUCCEEDED,
            customer,
            amount,
            currency,
            subscription,
            order,
            hosted_invoice_url,
            invoice=invoice,
            invoice_pdf_url=invoice.invoice_pdf if invoice is not None else None,
        )

    def send_payment_action_required(
        self,
        customer: Customer,
        *,
        invoice: Any,
        subscription: Subscription | None = None,
        **_: Any,
    ) -> bool:
        """The payment needs the customer (authentication, another card): the link to the
        provider's hosted invoice page, where they finish it."""
        return self._send(
            PAYMENT_ACTION_REQUIRED,
            customer,
            self.recipient(customer),
            invoice=invoice,
            subscription=subscription,
            amount_display=format_amount(invoice.amount_remaining, invoice.currency),
            invoice_url=invoice.hosted_invoice_url,
        )

    def send_payment_failed(
        self,
        customer: Customer,
        *,
        amount: int,
        currency: str,
        subscription: Subscription | None = None,
        order: Any = None,
        hosted_invoice_url: str | None = None,
        failure_message: str = "",
        attempt_count: int = 0,
        next_payment_attempt: Any = None,
        **extra: Any,
    ) -> bool:
        """One mail per failed attempt, with the portal link to update the card; the last
        attempt's (no next attempt scheduled) is the final notice."""
        if not mail_enabled():
            return False
        return self._send_payment(
            PAYMENT_FAILED,
            customer,
            amount,
            currency,
            subscription,
            order,
            hosted_invoice_url,
            failure_message=failure_message,
            portal_url=self.portal_url(customer),
            attempt_count=attempt_count,
            next_payment_attempt=next_payment_attempt,
            final_notice=(
                subscription is not None and attempt_count > 0 and next_payment_attempt is None
            ),
        )

    def _send_payment(
        self,
        template: str,
        customer: Customer,
        amount: int,
        currency: str,
        subscription: Subscription | None,
        order: Any,
        hosted_invoice_url: str | None,
        **context: Any,
    ) -> bool:
        """A mail about one payment: its amount, what it paid for and the invoice link."""
        return self._send(
            template,
            customer,
            self.recipient(customer),
            amount=amount,
            amount_display=format_amount(amount, currency),
            currency=currency,
            subscription=subscription,
            order=order,
            invoice_url=hosted_invoice_url,
            **context,
        )

    def send_subscription_canceled(
        self, subscription: Subscription, *, at_period_end: bool = False
    ) -> bool:
        customer = subscription.customer
        return self._send(
            SUBSCRIPTION_CANCELED,
            customer,
            self.recipient(customer),
            subscription=subscription,
            at_period_end=at_period_end,
            ends_at=subscription.current_period_end if at_period_end else subscription.ended_at,
        )

    def send_trial_ending(self, subscription: Subscription) -> bool:
        customer = subscription.customer
        return self._send(
            TRIAL_ENDING,
            customer,
            self.recipient(customer),
            subscription=subscription,
            trial_end=subscription.trial_end,
        )

    def send_refunded(self, order: Any, refund: Any, *, fully_refunded: bool = False) -> bool:
        """To the customer: a refund of their order was made."""
        customer = order.customer
        return self._send(
            REFUNDED,
            customer,
            self.recipient(customer),
            order=order,
            refund=refund,
            amount_display=format_amount(refund.amount, refund.currency),
            fully_refunded=fully_refunded,
        )

    def _password_setup_url(self, user: Any) -> str | None:
        path = password_setup_path(user)
        return self.adapter.absolute_url(path) if path else None

    def send_welcome(self, user: Any, owner: Any = None) -> bool:
        """To a user created at checkout, who has no password yet: how to set one."""
        return self._send(
            WELCOME,
            None,
            str(getattr(user, "email", "") or ""),
            user=user,
            owner=owner,
            password_setup_url=self._password_setup_url(user),
        )


def format_amount(amount: int, currency: str) -> str:
    """``1500, "eur"`` → ``"15.00 EUR"`` (the currency's decimals: zero-decimal ones keep none)."""
    return currencies.format_amount(amount, currency)


def _local_invoice(invoice_id: Any) -> Any:
    """The local record of the provider invoice ``invoice_id`` (``None`` for none)."""
    if not invoice_id:
        return None
    from django_payments_sync.models import Invoice

    return Invoice.objects.filter(external_id=str(invoice_id)).first()


def password_setup_path(user: Any) -> str | None:
    """The host's ``password_reset_confirm`` path for ``user``, when the host routes one."""
    try:
        return reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    except NoReverseMatch:
        return None


# --- receivers of the host signals ----------------------------------------------------------
def _when_mail_enabled(receiver: Any) -> Any:
    """With ``MAIL["ENABLED"]`` off, a receiver returns at once: no mail, and no query to
    build one (the context reads the invoice, the billing email)."""

    @functools.wraps(receiver)
    def receive(*args: Any, **kwargs: Any) -> None:
        if mail_enabled():
            receiver(*args, **kwargs)

    return receive


@_when_mail_enabled
def _on_payment_succeeded(sender: Any, customer: Customer, **kwargs: Any) -> None:
    MailerService().send_payment_succeeded(customer, **kwargs)


@_when_mail_enabled
def _on_payment_failed(sender: Any, customer: Customer, **kwargs: Any) -> None:
    MailerService().send_payment_failed(customer, **kwargs)


@_when_mail_enabled
def _on_payment_action_required(sender: Any, customer: Customer, **kwargs: Any) -> None:
    MailerService().send_payment_action_required(customer, **kwargs)


@_when_mail_enabled
def _on_subscription_canceled(
    sender: Any, subscription: Subscription, at_period_end: bool = False, **kwargs: Any
) -> None:
    MailerService().send_subscription_canceled(subscription, at_period_end=at_period_end)


@_when_mail_enabled
def _on_subscription_trial_ending(sender: Any, subscription: Subscription, **kwargs: Any) -> None:
    MailerService().send_trial_ending(subscription)


@_when_mail_enabled
def _on_order_refunded(sender: Any, order: Any, refund: Any, **kwargs: Any) -> None:
    MailerService().send_refunded(order, refund, fully_refunded=kwargs.get("fully_refunded", False))


def connect_signals() -> None:
    """Connect the mails to the host signals (called once when the app is ready)."""
    signals.payment_succeeded.connect(_on_payment_succeeded, dispatch_uid="payments_sync_mail_paid")
    signals.payment_failed.connect(_on_payment_failed, dispatch_uid="payments_sync_mail_failed")
    signals.payment_action_required.connect(
        _on_payment_action_required, dispatch_uid="payments_sync_mail_action_required"
    )
    signals.subscription_canceled.connect(
        _on_subscription_canceled, dispatch_uid="payments_sync_mail_canceled"
    )
    signals.subscription_trial_ending.connect(
        _on_subscription_trial_ending, dispatch_uid="payments_sync_mail_trial"
    )
    signals.order_refunded.connect(_on_order_refunded, dispatch_uid="payments_sync_mail_refunded")
