"""Customers: who pays, resolved from a request through the adapter and created on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from django_payments_sync import signals
from django_payments_sync.adapter import get_adapter
from django_payments_sync.models import Customer

if TYPE_CHECKING:
    from django.http import HttpRequest


def get_or_create_customer(owner: Any, *, created_from: str = "local") -> Customer:
    """The customer of ``owner`` (a user or an organization), created on first use.

    A new customer takes its email and name from the adapter's ``get_owner_email`` and
    ``get_owner_name``; ``customer_created`` is sent after commit. Safe under concurrency:
    the owner is unique, so the loser of a race reads the winner's row.
    """
    customer = Customer.objects.filter(owner=owner).first()
    if customer is not None:
        return customer
    adapter = get_adapter()
    defaults = {"email": adapter.get_owner_email(owner), "name": adapter.get_owner_name(owner)}
    try:
        with transaction.atomic():
            customer, created = Customer.objects.get_or_create(owner=owner, defaults=defaults)
    except IntegrityError:
        # Another request created it between our read and our insert.
        return Customer.objects.get(owner=owner)
    if created:
        signals.send_after_commit(
            signals.customer_created, sender=Customer, customer=customer, created_from=created_from
        )
    return customer


def get_customer_owner(request: HttpRequest) -> Any:
    """The owner paying for ``request``, from the adapter; ``PermissionDenied`` when there is none.

    Never read from anything the client sends: a client can only ever reach its own customer.
    """
    owner = get_adapter().get_customer_owner(request)
    if owner is None or getattr(owner, "is_anonymous", False):
        raise PermissionDenied("There is no paying customer for this request.")
    return owner


def customer_for_request(request: HttpRequest) -> Customer:
    """The requester's own customer (the user's, or their organization's), created if needed."""
    return get_or_create_customer(get_customer_owner(request))


def existing_customer_for_request(request: HttpRequest) -> Customer | None:
    """The requester's own customer if it exists yet; reading never creates one."""
    return Customer.objects.filter(owner=get_customer_owner(request)).first()
