"""The adapter: host policy in one overridable class, loaded from ``PAYMENTS_SYNC["ADAPTER"]``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.http.request import split_domain_port, validate_host
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from django_payments_sync.conf import get_adapter, payments_settings
from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from django_payments_sync.interactor.tax import TaxDecision
    from django_payments_sync.models import AbstractBillingInformation, Customer

__all__ = ["DefaultPaymentsAdapter", "get_adapter", "owner_is_user"]

logger = logging.getLogger(__name__)


def owner_is_user() -> bool:
    """Whether customers are owned by users (the default) rather than by organizations."""
    from django_payments_sync.models import get_customer_owner_model

    return get_customer_owner_model() is get_user_model()


class DefaultPaymentsAdapter:
    """Default host policy. Subclass it and point ``PAYMENTS_SYNC["ADAPTER"]`` at your class."""

    # --- who pays ---------------------------------------------------------------------------
    def get_customer_owner(self, request: HttpRequest) -> Any:
        """Who pays for ``request``: the authenticated user, or the organization they belong to.

        When ``PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL`` is not the user model, the default finds the
        owner through the first relation of that model to the user (a foreign key or a
        many-to-many such as ``members``); override it when membership is more subtle.
        Returns ``None`` for an anonymous request.
        """
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.get_owner_for_user(user)

    def get_owner_for_user(self, user: AbstractBaseUser, *, create: bool = False) -> Any:
        """The customer owner ``user`` acts for (``None`` when there is none and ``create`` is off).

        With ``create=True`` a host adapter whose owners are organizations creates the
        organization (with the user as member); the default cannot know how, and says so.
        """
        if owner_is_user():
            return user
        from django_payments_sync.models import get_customer_owner_model

        owner_model = get_customer_owner_model()
        lookup = self._owner_user_lookup(owner_model)
        owner = owner_model._default_manager.filter(**{lookup: user}).order_by("pk").first()
        if owner is None and create:
            raise PaymentsSyncImproperlyConfigured(
                f"Customers are owned by {owner_model._meta.label}: override "
                "get_owner_for_user() in your PAYMENTS_SYNC['ADAPTER'] to create one for a new "
                "user."
            )
        return owner

    def _owner_user_lookup(self, owner_model: type[models.Model]) -> str:
        user_model = get_user_model()
        for field in owner_model._meta.get_fields():
            if (
                getattr(field, "related_model", None) is user_model
                and not field.auto_created
                and (field.many_to_many or field.many_to_one or field.one_to_one)
            ):
                return field.name
        raise PaymentsSyncImproperlyConfigured(
            f"{owner_model._meta.label} has no relation to the user model: override "
            "get_customer_owner() and get_owner_for_user() in your PAYMENTS_SYNC['ADAPTER']."
        )

    def get_owner_email(self, owner: Any) -> str:
        """The address a new customer gets at the provider (the owner's ``email``, if any)."""
        email = getattr(owner, "email", "") or ""
        if not email and not owner_is_user():
            # An organization without an address of its own: its first member's.
            related = getattr(owner, self._owner_user_lookup(type(owner)))
            member = related.order_by("pk").first() if hasattr(related, "order_by") else related
            email = getattr(member, "email", "") or ""
        return str(email)

    def get_owner_name(self, owner: Any) -> str:
        """A display name for the owner: ``get_full_name()``, else ``name``, else ``str()``."""
        full_name = getattr(owner, "get_full_name", None)
        if callable(full_name) and full_name():
            return str(full_name())
        return str(getattr(owner, "name", "") or owner)

    def get_subscription_limit(self, customer: Customer) -> int | None:
        """Most live subscriptions ``customer`` may hold (``None``: no limit)."""
        limit = payments_settings.MAX_ACTIVE_SUBSCRIPTIONS
        return None if limit is None else int(limit)

    # --- tax --------------------------------------------------------------------------------
    def decide_tax(self, billing_info: AbstractBillingInformation, vat_status: str) -> TaxDecision:
        """The tax exemption of ``billing_info``, given its VAT-number validation status.

        The default policy is :func:`django_payments_sync.interactor.tax.decide_tax`, with the
        seller in ``PAYMENTS_SYNC["SELLER_COUNTRY"]``: a customer in the seller's country pays
        VAT (``none``); in another EU member state with a VIES-valid number, reverse charge
        (``reverse``); in the EU without a valid number, VAT (``none``); outside the EU,
        ``exempt``. Override it for another policy; return a ``TaxDecision(exemption, reason)``.
        """
        from django_payments_sync.interactor.tax import decide_tax

        return decide_tax(
            seller_country=payments_settings.SELLER_COUNTRY,
            customer_country=billing_info.country,
            vat_status=vat_status,
            has_vat_number=bool(billing_info.tax_id),
        )

    # --- users created at checkout ----------------------------------------------------------
    def normalize_email(self, email: str) -> str:
        """The form an email is stored and compared in (trimmed, lower-cased)."""
        return email.strip().lower()

    def generate_username(self, email: str) -> str:
        """A unique username for a user created from ``email`` (the email itself when it fits).

        Deriving it from the email, instead of counting, is what makes concurrent creations of
        the same email collide on the username's unique constraint rather than both succeed.
        """
        user_model = get_user_model()
        field = user_model._meta.get_field(user_model.USERNAME_FIELD)
        max_length = getattr(field, "max_length", None) or 150
        if len(email) <= max_length:
            return email
        digest = hashlib.sha256(email.encode()).hexdigest()[:16]
        return f"{email[: max_length - 17]}-{digest}"

    def get_owner_for_email(self, email: str) -> Any:
        """An existing customer owner for a provider customer known only by ``email`` (no
        ``payments_sync_id`` metadata, and not exactly one unlinked local customer with that
        email): return the owner to link it to, or ``None`` to wait (the event is deferred).

        Override for organizations as customers: e.g. the team whose billing email it is.
        """
        return None

    def get_or_create_user(self, email: str, name: str = "") -> Any:
        """The customer owner for a checkout by ``email``: an existing user's, or a new user's.

        Idempotent per email (compared case-insensitively), also when several webhook
        deliveries call it at the same time: the loser of a race gets the winner's user.
        A new user has no usable password; the welcome mail tells them how to set one.
        """
        email = self.normalize_email(email)
        user, created = self._get_or_create_user_row(email, name)
        owner = self.get_owner_for_user(user, create=True)
        if created:
            self.user_created_at_checkout(user, owner)
        return owner

    def _get_or_create_user_row(self, email: str, name: str) -> tuple[Any, bool]:
        user_model: Any = get_user_model()
        manager = user_model._default_manager
        existing = manager.filter(email__iexact=email).order_by("pk").first()
        if existing is not None:
            return existing, False
        defaults: dict[str, Any] = {"email": email, "password": make_password(None)}
        username_field = user_model.USERNAME_FIELD
        if username_field != "email":
            defaults[username_field] = self.generate_username(email)
        first, _, last = name.strip().partition(" ")
        field_names = {f.name for f in user_model._meta.get_fields()}
        if first and "first_name" in field_names:
            defaults["first_name"] = first[:150]
            defaults["last_name"] = last[:150]
        try:
            user, created = manager.get_or_create(email__iexact=email, defaults=defaults)
        except user_model.MultipleObjectsReturned:
            return manager.filter(email__iexact=email).order_by("pk").first(), False
        except IntegrityError:
            # Another process created it between our read and our insert.
            user = manager.filter(email__iexact=email).order_by("pk").first()
            if user is None:
                raise
            created = False
        return user, created

    def user_created_at_checkout(self, user: Any, owner: Any) -> None:
        """Called once for a user created by :meth:`get_or_create_user`: sends the welcome mail."""
        from django_payments_sync.interactor.mailer import MailerService

        MailerService(self).send_welcome(user, owner)

    def post_user_created(self, user: Any) -> None:
        """Called after the commit that created ``user`` (any user, not only at checkout).

        The default creates the user's Customer when users own customers; a host whose
        customers are organizations overrides it to create the organization.
        """
        if not owner_is_user():
            return
        from django_payments_sync.interactor.customers import get_or_create_customer

        get_or_create_customer(user)

    # --- redirects --------------------------------------------------------------------------
    def get_allowed_redirect_hosts(self, request: HttpRequest | None) -> list[str]:
        """Hosts a checkout may send the customer back to: ours, ``ALLOWED_HOSTS`` but ``*``."""
        hosts = [h for h in settings.ALLOWED_HOSTS if h != "*"]
        if request is not None:
            domain, _port = split_domain_port(request.get_host())
            if domain:
                hosts.append(domain)
        return hosts

    def is_safe_url(self, url: str, request: HttpRequest | None = None) -> bool:
        """Whether ``url`` (absolute http(s), or a path) only leads to one of our hosts."""
        if not url or any(c in url for c in ("\\", "\n", "\r", "\t")):
            return False
        parts = urlsplit(url)
        if not parts.scheme and not parts.netloc:
            return url.startswith("/") and not url.startswith("//")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if request is not None and request.is_secure() and parts.scheme != "https":
            return False
        return validate_host(parts.hostname, self.get_allowed_redirect_hosts(request))

    # --- mail -------------------------------------------------------------------------------
    def get_site_name(self) -> str:
        """The site's name in mails: the current ``Site``'s with django.contrib.sites, else ""."""
        from django.apps import apps

        if not apps.is_installed("django.contrib.sites"):
            return ""
        from django.contrib.sites.models import Site

        return str(Site.objects.get_current().name)

    def absolute_url(self, path: str) -> str:
        """``path`` as a link for a mail: on the current ``Site``'s domain with
        django.contrib.sites (https unless the domain is local), else unchanged."""
        from django.apps import apps

        if not path.startswith("/") or not apps.is_installed("django.contrib.sites"):
            return path
        from django.contrib.sites.models import Site

        domain = Site.objects.get_current().domain
        scheme = "http" if domain.split(":")[0] in ("localhost", "127.0.0.1") else "https"
        return f"{scheme}://{domain}{path}"

    def get_from_email(self) -> str:
        return str(payments_settings.MAIL.get("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL)

    def render_mail(
        self, template_prefix: str, to: Sequence[str], context: Mapping[str, Any]
    ) -> EmailMultiAlternatives:
        """The message from ``<prefix>_subject.txt``, ``<prefix>_message.txt`` and, if it exists,
        ``<prefix>_message.html``; host templates of the same name take precedence."""
        # A subject is one line, however the template wraps it.
        subject = " ".join(
            render_to_string(f"{template_prefix}_subject.txt", dict(context)).split()
        )
        body = render_to_string(f"{template_prefix}_message.txt", dict(context))
        message = EmailMultiAlternatives(subject, body, self.get_from_email(), list(to))
        try:
            html: str | None = render_to_string(f"{template_prefix}_message.html", dict(context))
        except TemplateDoesNotExist:
            html = None
        if html:
            message.attach_alternative(html, "text/html")
        return message

    def send_mail(
        self, template_prefix: str, to: Sequence[str], context: Mapping[str, Any]
    ) -> None:
        """Render the templated mail now and send it through Django's email backend after commit.

        Rendering now keeps the context's model state as it was in the transaction; sending
        after commit means a rolled-back change never mails anyone.
        """
        recipients = [address for address in to if address]
        if not recipients:
            return
        message = self.render_mail(template_prefix, recipients, context)

        def send() -> None:
            try:
                message.send()
            except Exception:
                logger.exception("Could not send the %s mail to %s", template_prefix, recipients)

        transaction.on_commit(send)
