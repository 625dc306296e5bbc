"""The local customer of an owner, created on first use by whichever side needs it first.

The billing API, a checkout paid by a new user (a webhook), ``reconcile`` adopting a provider
customer and the user-created receiver all come here, so a customer is created one way.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from django_payments_sync import signals
from django_payments_sync.conf import get_adapter
from django_payments_sync.models import Customer

__all__ = ["get_or_create_customer"]


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
