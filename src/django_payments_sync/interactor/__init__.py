"""The provider-neutral business layer: the PaymentInteractor facade and its services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_payments_sync.backends.types import InvoicePreview
    from django_payments_sync.interactor.entitlements import Entitlements, EntitlementService
    from django_payments_sync.interactor.lifecycle import LifecycleService
    from django_payments_sync.interactor.mailer import MailerService
    from django_payments_sync.interactor.orders import OrderService
    from django_payments_sync.interactor.plans import PlanService
    from django_payments_sync.interactor.refunds import RefundService
    from django_payments_sync.interactor.services import (
        BillingService,
        CustomerService,
        OrganizationService,
        PaymentService,
        ProductService,
    )
    from django_payments_sync.interactor.subscriptions import SubscriptionService
    from django_payments_sync.models import BillingInformation, Customer, Refund, Subscription


class PaymentInteractor:
    """The one entry point of host code and of the API into payments.

    Each method delegates to a small service named by what it does; the services import lazily,
    so that importing the facade never drags in a part a host does not use.
    """

    # --- the services ---------------------------------------------------------------------
    @property
    def subscriptions(self) -> SubscriptionService:
        from django_payments_sync.interactor.subscriptions import SubscriptionService

        return SubscriptionService()

    @property
    def lifecycle(self) -> LifecycleService:
        from django_payments_sync.interactor.lifecycle import LifecycleService

        return LifecycleService()

    @property
    def orders(self) -> OrderService:
        from django_payments_sync.interactor.orders import OrderService

        return OrderService()

    @property
    def plans(self) -> PlanService:
        from django_payments_sync.interactor.plans import PlanService

        return PlanService()

    @property
    def mailer(self) -> MailerService:
        from django_payments_sync.interactor.mailer import MailerService

        return MailerService()

    @property
    def billing(self) -> BillingService:
        from django_payments_sync.interactor.services import BillingService

        return BillingService()

    @property
    def customers(self) -> CustomerService:
        from django_payments_sync.interactor.services import CustomerService

        return CustomerService()

    @property
    def organizations(self) -> OrganizationService:
        from django_payments_sync.interactor.services import OrganizationService

        return OrganizationService()

    @property
    def products(self) -> ProductService:
        from django_payments_sync.interactor.services import ProductService

        return ProductService()

    @property
    def provider(self) -> PaymentService:
        from django_payments_sync.interactor.services import PaymentService

        return PaymentService()

    # --- customers ------------------------------------------------------------------------
    def get_customer(self, owner: Any) -> Customer:
        """The customer of ``owner`` (a user or an organization), created on first need."""
        from django_payments_sync.interactor.customers import get_or_create_customer

        return get_or_create_customer(owner)

    def customer_for_request(self, request: HttpRequest) -> Customer:
        """The requester's own customer, through the adapter (never from client input)."""
        from django_payments_sync.interactor.customers import customer_for_request

        return customer_for_request(request)

    def get_or_create_custom_user(self, email: str, name: str = "") -> Any:
        """The owner for a checkout by ``email``: the existing user's, or a new user (and, in a
        host adapter, their organization). Idempotent per email."""
        from django_payments_sync.conf import get_adapter

        return get_adapter().get_or_create_user(email, name)

    _get_or_create_custom_user = get_or_create_custom_user

    # --- billing and tax ------------------------------------------------------------------
    def create_user_billing_info(
        self, customer: Customer, data: Mapping[str, Any]
    ) -> BillingInformation:
        """Save ``customer``'s billing information, decide tax, push it to the provider."""
        from django_payments_sync.interactor.billing import create_user_billing_info

        return create_user_billing_info(customer, data)

    def get_customer_management_portal_link(
        self,
        customer: Customer,
        return_url: str | None = None,
        *,
        request: HttpRequest | None = None,
    ) -> str:
        """The provider's customer-portal URL for ``customer``, coming back to ``return_url``
        (an address on one of our hosts, or a path with ``request``; else ``PolicyViolation``)."""
        from django_payments_sync.interactor.billing import get_customer_management_portal_link

        return get_customer_management_portal_link(customer, return_url, request=request)

    def validate_vies(self, number: str, country: str | None = None) -> Any:
        """Check a VAT number (format offline, then VIES); the result says valid, invalid,
        unavailable or error."""
        from django_payments_sync.interactor.billing import validate_vies

        return validate_vies(number, country)

    def process_tax(self, billing_info: BillingInformation) -> Any:
        """Decide and save the tax exemption of ``billing_info`` (the adapter's policy)."""
        from django_payments_sync.interactor.billing import process_tax

        return process_tax(billing_info)

    _process_tax = process_tax

    # --- plans, checkout, orders ----------------------------------------------------------
    def get_plans(self, promotion_code: str | None = None) -> list[dict[str, Any]]:
        """The public catalog: active products with active prices, features and limits; with
        ``promotion_code``, what it takes off each price (an invalid code: PolicyViolation)."""
        return self.plans.get_plans(promotion_code)

    def create_checkout(
        self,
        customer: Customer,
        pricing: Any,
        quantity: int = 1,
        *,
        request: HttpRequest | None = None,
        success_url: str | None = None,
        cancel_url: str | None = None,
        promotion_code: str | None = None,
    ) -> dict[str, Any]:
        """Create an Order and a PaymentAttempt and open the provider's checkout for them.

        Answers ``{"id": <session id>, "url": <checkout page>, "order_id": <Order pk>}``. The
        return URLs default to the settings and must lead to this site.
        """
        from django_payments_sync.interactor.orders import resolve_return_urls

        urls = resolve_return_urls(request, success_url, cancel_url)
        return self.orders.create_checkout(
            customer,
            pricing,
            quantity,
            success_url=urls.success_url,
            cancel_url=urls.cancel_url,
            promotion_code=promotion_code,
        )

    def cancel_order(self, order: Any) -> Any:
        """End a pending order whose checkout the customer left (its attempts are canceled)."""
        return self.orders.cancel_order(order)

    # --- subscriptions --------------------------------------------------------------------
    def create_subscription(
        self, customer: Customer, pricing: Any, quantity: int = 1
    ) -> Subscription:
        """Subscribe ``customer`` directly (they need a default payment method at the provider)."""
        return self.subscriptions.create_subscription(customer, pricing, quantity)

    def update_subscription(
        self,
        subscription: Subscription,
        *,
        pricing: Any = None,
        quantity: int | None = None,
        cancel_at_period_end: bool | None = None,
        proration_behavior: str | None = None,
    ) -> Subscription:
        """Change price or quantity (prorated per ``proration_behavior``, by default
        ``PRORATION_BEHAVIOR``), or undo a cancellation at the period's end."""
        return self.subscriptions.update_subscription(
            subscription,
            pricing=pricing,
            quantity=quantity,
            cancel_at_period_end=cancel_at_period_end,
            proration_behavior=proration_behavior,
        )

    def preview_change(
        self,
        subscription: Subscription,
        *,
        pricing: Any = None,
        quantity: int | None = None,
        proration_behavior: str | None = None,
    ) -> InvoicePreview:
        """What the next invoice would be after the change (prorations, total, tax, date),
        without changing anything."""
        return self.lifecycle.preview_change(
            subscription, pricing=pricing, quantity=quantity, proration_behavior=proration_behavior
        )

    def increment_quantity(
        self, subscription: Subscription, by: int = 1, *, proration_behavior: str | None = None
    ) -> Subscription:
        """Add seats, within the price's ``max_quantity``."""
        return self.lifecycle.change_quantity(
            subscription, by, proration_behavior=proration_behavior
        )

    def decrement_quantity(
        self, subscription: Subscription, by: int = 1, *, proration_behavior: str | None = None
    ) -> Subscription:
        """Remove seats, down to the price's ``min_quantity``."""
        return self.lifecycle.change_quantity(
            subscription, -by, proration_behavior=proration_behavior
        )

    def pause_subscription(
        self, subscription: Subscription, *, behavior: str = "void", resumes_at: Any = None
    ) -> Subscription:
        """Pause payment collection (``void``, ``mark_uncollectible`` or ``keep_as_draft``
        the invoices meanwhile), until :meth:`resume_subscription` or ``resumes_at``."""
        return self.lifecycle.pause(subscription, behavior=behavior, resumes_at=resumes_at)

    def resume_subscription(self, subscription: Subscription) -> Subscription:
        """Collect a paused subscription's payments again."""
        return self.lifecycle.resume(subscription)

    def cancel_subscription(
        self, subscription: Subscription, *, at_period_end: bool = True
    ) -> Subscription:
        """Cancel at the end of the paid period (default) or at once."""
        return self.subscriptions.cancel_subscription(subscription, at_period_end=at_period_end)

    # --- access ---------------------------------------------------------------------------
    def has_active_subscription(self, owner: Any) -> bool:
        """Whether ``owner`` (a user or an organization) has a subscription that gives access
        now: active or trialing; set to cancel, until the period's end; past_due, for
        ``GRACE_PERIOD_DAYS``. Never creates a customer."""
        from django_payments_sync.interactor.access import has_active_subscription

        return has_active_subscription(owner)

    # --- one-off charges -------------------------------------------------------------------
    def charge_off_session(self, customer: Customer, **terms: Any) -> Any:
        """Charge ``customer``'s saved payment method once: ``amount``, ``currency`` and
        ``description`` (or ``pricing``, a one-time price), ``quantity``; answers the Order."""
        from django_payments_sync.interactor.charges import charge_off_session

        return charge_off_session(customer, **terms)

    def create_charge_checkout(
        self,
        customer: Customer,
        *,
        request: HttpRequest | None = None,
        success_url: str | None = None,
        cancel_url: str | None = None,
        **terms: Any,
    ) -> dict[str, Any]:
        """Open the provider's checkout for a one-off charge (an ad-hoc ``amount``,
        ``currency`` and ``description``, or a one-time ``pricing``); answers ``{"id", "url",
        "order_id"}``, the return URLs as for :meth:`create_checkout`."""
        from django_payments_sync.interactor.charges import charge_checkout
        from django_payments_sync.interactor.orders import resolve_return_urls

        urls = resolve_return_urls(request, success_url, cancel_url)
        return charge_checkout(
            customer, success_url=urls.success_url, cancel_url=urls.cancel_url, **terms
        )

    # --- usage-based billing ----------------------------------------------------------------
    def record_usage(
        self,
        owner: Any,
        meter: Any,
        quantity: int,
        timestamp: Any = None,
        identifier: str | None = None,
    ) -> Any:
        """Record ``quantity`` of ``meter`` (a Meter or its event name) for ``owner``: one local
        insert, sent to the provider off the request path, exactly once per ``identifier``."""
        from django_payments_sync.interactor.usage import record_usage

        return record_usage(owner, meter, quantity, timestamp, identifier)

    def usage_so_far(self, customer: Customer) -> list[Any]:
        """Per active meter, what ``customer`` used since its current period started."""
        from django_payments_sync.interactor.usage import usage_so_far

        return usage_so_far(customer)

    # --- discounts ------------------------------------------------------------------------
    @property
    def discounts(self) -> Any:
        from django_payments_sync.interactor.coupons import DiscountService

        return DiscountService()

    def apply_promotion_code(self, subscription: Subscription, code: str) -> Any:
        """Give a live subscription the discount of promotion code ``code`` (checked first)."""
        return self.discounts.apply_to_subscription(subscription, code)

    # --- refunds --------------------------------------------------------------------------
    @property
    def refunds(self) -> RefundService:
        from django_payments_sync.interactor.refunds import RefundService

        return RefundService()

    def refund_order(self, order: Any, amount: int | None = None, *, reason: str = "") -> Refund:
        """Refund ``amount`` (minor units; all that is left when ``None``) of a paid order."""
        return self.refunds.refund_order(order, amount, reason=reason)

    # --- entitlements ---------------------------------------------------------------------
    @property
    def entitlements(self) -> EntitlementService:
        from django_payments_sync.interactor.entitlements import EntitlementService

        return EntitlementService()

    def get_entitlements(self, owner: Any) -> Entitlements:
        """The features and limits ``owner`` has (its plans' over the free tier); one query,
        then kept on the owner object."""
        return self.entitlements.of(owner)

    def has_feature(self, owner: Any, feature: str) -> bool:
        """Whether ``owner``'s plans (or the free tier) include ``feature``."""
        return self.entitlements.has_feature(owner, feature)

    def limit(self, owner: Any, name: str, default: Any = None) -> Any:
        """``owner``'s limit ``name`` (the most generous of its plans'), else ``default``."""
        return self.entitlements.limit(owner, name, default)

    # --- webhooks -------------------------------------------------------------------------
    def handle_webhook(self, body: bytes, headers: Mapping[str, str]) -> Any:
        """Verify, store and apply one provider webhook request (what the webhook view does)."""
        from django_payments_sync.webhooks import process_webhook_request

        return process_webhook_request(body, headers)

    def handle_webhook_from_stripe(self, body: bytes, headers: Mapping[str, str]) -> Any:
        """The design's name for :meth:`handle_webhook` with the Stripe backend configured."""
        return self.handle_webhook(body, headers)


#: A ready instance: ``from django_payments_sync.interactor import payments``.
payments = PaymentInteractor()

__all__ = ["PaymentInteractor", "payments"]
