"""The design's services by name: each one class, with the jobs the specification gives it.

The work itself lives in the modules of this package (``billing``, ``customers``,
``orders``, ...); these classes are the names host code and the facade use, so that a reader of
the design finds each service where it says. Host policy stays in the adapter, which the
services call. ``docs/interactor.md`` maps every name of the design onto this code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_payments_sync.backends import BaseBackend
    from django_payments_sync.interactor.billing import RecheckReport
    from django_payments_sync.interactor.tax import TaxDecision
    from django_payments_sync.models import BillingInformation, Customer
    from django_payments_sync.sync.diff import Drift
    from django_payments_sync.sync.push import PushReport
    from django_payments_sync.sync.rows import SyncResult
    from django_payments_sync.vies.result import VatCheckResult


class CustomerService:
    """Who pays: the local customer of an owner (a user or an organization) and of a request."""

    def get_or_create_customer(self, owner: Any, *, created_from: str = "local") -> Customer:
        from django_payments_sync.interactor.customers import get_or_create_customer

        return get_or_create_customer(owner, created_from=created_from)

    def customer_for_request(self, request: HttpRequest) -> Customer:
        """The requester's own customer (the owner comes from the adapter, never the client)."""
        from django_payments_sync.interactor.customers import customer_for_request

        return customer_for_request(request)

    def get_or_create_custom_user(self, email: str, name: str = "") -> Any:
        """The owner for a checkout by ``email`` (the adapter's ``get_or_create_user``)."""
        from django_payments_sync.conf import get_adapter

        return get_adapter().get_or_create_user(email, name)


class OrganizationService:
    """Organizations as customers: which owner a user, a request or an email bills (the
    adapter's policy, ``PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL``)."""

    def owner_for_request(self, request: HttpRequest) -> Any:
        from django_payments_sync.conf import get_adapter

        return get_adapter().get_customer_owner(request)

    def owner_for_user(self, user: Any, *, create: bool = False) -> Any:
        from django_payments_sync.conf import get_adapter

        return get_adapter().get_owner_for_user(user, create=create)

    def owner_for_email(self, email: str) -> Any:
        from django_payments_sync.conf import get_adapter

        return get_adapter().get_owner_for_email(email)


class BillingService:
    """Billing information, the VAT check through VIES, the tax decision, the portal link."""

    def get_billing_info(self, customer: Customer | None) -> BillingInformation | None:
        from django_payments_sync.interactor.billing import get_billing_info

        return get_billing_info(customer)

    def create_user_billing_info(
        self, customer: Customer, data: Mapping[str, Any]
    ) -> BillingInformation:
        from django_payments_sync.interactor.billing import create_user_billing_info

        return create_user_billing_info(customer, data)

    def update_billing_info(
        self, customer: Customer, data: Mapping[str, Any]
    ) -> BillingInformation:
        from django_payments_sync.interactor.billing import update_billing_info

        return update_billing_info(customer, data)

    def validate_vies(self, number: str, country: str | None = None) -> VatCheckResult:
        from django_payments_sync.interactor.billing import validate_vies

        return validate_vies(number, country)

    def process_tax(self, billing_info: BillingInformation) -> TaxDecision:
        from django_payments_sync.interactor.billing import process_tax

        return process_tax(billing_info)

    def recheck_pending_vat(self, *, limit: int | None = None) -> RecheckReport:
        from django_payments_sync.interactor.billing import recheck_pending_vat

        return recheck_pending_vat(limit=limit)

    def get_customer_management_portal_link(
        self,
        customer: Customer,
        return_url: str | None = None,
        *,
        request: HttpRequest | None = None,
    ) -> str:
        from django_payments_sync.interactor.billing import get_customer_management_portal_link

        return get_customer_management_portal_link(customer, return_url, request=request)


class ProductService:
    """The catalog at the provider: products and prices pushed, compared, repaired."""

    def push(self, product: Any) -> list[SyncResult]:
        """Push one product and its prices (only what changed)."""
        from django_payments_sync.sync.catalog import sync_product

        return sync_product(product)

    def push_catalog(self, *, dry_run: bool = False, prune: bool = False) -> PushReport:
        from django_payments_sync.sync.push import push_all

        return push_all(dry_run=dry_run, prune=prune, customers=False)

    def diff(self) -> list[Drift]:
        """What differs between the local catalog and the provider's (no subscriptions)."""
        from django_payments_sync.sync.diff import diff

        return [d for d in diff(subscriptions=False) if d.object_type in ("product", "price")]


class PaymentService:
    """The payment provider as the services see it: the configured backend, and the provider
    ids of local rows, made to exist at the provider on first need."""

    def backend(self) -> BaseBackend:
        from django_payments_sync.interactor import provider

        return provider.backend()

    def ensure_customer_id(self, customer: Customer) -> str:
        from django_payments_sync.interactor import provider

        return provider.ensure_customer_id(customer)

    def ensure_price_id(self, pricing: Any) -> str:
        from django_payments_sync.interactor import provider

        return provider.ensure_price_id(pricing)


class UserInteractor:
    """What the library does when a user is created (``custom_user_post_save``)."""

    def post_user_created(self, user: Any) -> None:
        """Run the adapter's ``post_user_created`` (e.g. a customer or a team for the user)."""
        from django_payments_sync.conf import get_adapter

        get_adapter().post_user_created(user)


__all__ = [
    "BillingService",
    "CustomerService",
    "OrganizationService",
    "PaymentService",
    "ProductService",
    "UserInteractor",
]
