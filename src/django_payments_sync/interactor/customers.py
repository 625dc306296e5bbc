"""Customers: who pays, resolved from a request through the adapter and created on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied

from django_payments_sync.conf import get_adapter
from django_payments_sync.models import Customer
from django_payments_sync.sync.owners import get_or_create_customer

__all__ = [
    "customer_for_request",
    "existing_customer_for_request",
    "get_customer_owner",
    "get_or_create_customer",
]

if TYPE_CHECKING:
    from django.http import HttpRequest


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
