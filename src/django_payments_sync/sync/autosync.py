"""Automatic push of local saves and deletes to the provider, after the transaction commits."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_delete, pre_save

from django_payments_sync.conf import payments_settings
from django_payments_sync.models import (
    BillingInformation,
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    Meter,
    Subscription,
    SyncStatus,
    get_pricing_model,
    get_product_model,
)

logger = logging.getLogger("django_payments_sync.autosync")

_state = threading.local()


@contextlib.contextmanager
def suppress_autosync() -> Iterator[None]:
    """Saves and deletes inside this block are not pushed (e.g. while applying provider events)."""
    depth = getattr(_state, "suppressed", 0)
    _state.suppressed = depth + 1
    try:
        yield
    finally:
        _state.suppressed = depth


def autosync_active() -> bool:
    return bool(payments_settings.AUTO_SYNC) and not getattr(_state, "suppressed", 0)


def _after_commit(job: Callable[[], Any], what: str) -> None:
    def run() -> None:
        from django_payments_sync.sync.accounts import check_account

        try:
            # Never into another account than the links' (the row stays pending).
            check_account()
            job()
        except Exception:  # the local change is committed; a push failure must never undo it
            logger.exception("Automatic sync of %s failed; `payments_sync push` will retry.", what)

    transaction.on_commit(run)


def _reloaded(model: type[Model], pk: Any) -> Any | None:
    # The row as committed (a later save in the same transaction may have changed it again).
    return model._default_manager.filter(pk=pk).first()


# --- saves --------------------------------------------------------------------------------


def _mark_pending(
    sender: type[Model], instance: Any, update_fields: Any = None, **kwargs: Any
) -> None:
    """A full save of a synced row means its provider copy may be stale until pushed."""
    if update_fields is None and autosync_active() and not kwargs.get("raw"):
        instance.sync_status = SyncStatus.PENDING


def _customer_saved(sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    customer_id = instance.customer_id if isinstance(instance, BillingInformation) else instance.pk
    if raw or not autosync_active():
        return

    def push() -> None:
        from django_payments_sync.sync.customers import sync_customer

        customer = (
            Customer.objects.select_related("billing_information").filter(pk=customer_id).first()
        )
        if customer is not None:
            sync_customer(customer)

    _after_commit(push, f"customer {customer_id}")


def _catalog_saved(sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not autosync_active():
        return
    product_id = instance.pk if sender is get_product_model() else instance.product_id

    def push() -> None:
        from django_payments_sync.backends import get_backend
        from django_payments_sync.backends.types import Capability
        from django_payments_sync.sync.catalog import sync_product
        from django_payments_sync.sync.entitlements import push_features

        product = _reloaded(get_product_model(), product_id)
        if product is not None:
            sync_product(product)
            # Its features too, where the provider has entitlements (Stripe).
            if get_backend().supports(Capability.ENTITLEMENTS):
                push_features(product_id=product_id)

    _after_commit(push, f"product {product_id}")


def _meter_saved(sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """A meter is pushed like a price: after commit, where the provider has meters. A new
    event name or aggregation replaces it there, and its metered prices follow it."""
    if raw or not autosync_active():
        return
    pk = instance.pk

    def push() -> None:
        from django_payments_sync.backends import get_backend
        from django_payments_sync.backends.types import Capability
        from django_payments_sync.sync.catalog import sync_product
        from django_payments_sync.sync.meters import sync_meter
        from django_payments_sync.sync.rows import SyncAction

        backend = get_backend()
        meter = _reloaded(Meter, pk)
        if meter is None or not backend.supports(Capability.METERS):
            return
        result = sync_meter(meter, backend=backend)
        if result.action is not SyncAction.UPDATED:
            return
        # Replaced at the provider: each metered price of it is replaced to name the new one.
        products = get_pricing_model()._default_manager.filter(meter_id=pk).values("product_id")
        for product in get_product_model()._default_manager.filter(pk__in=products):
            sync_product(product, backend=backend)

    _after_commit(push, f"meter {pk}")


def _subscription_saved(
    sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any
) -> None:
    if raw or not autosync_active():
        return
    pk = instance.pk

    def push() -> None:
        from django_payments_sync.sync.subscriptions import sync_subscription

        subscription = _reloaded(Subscription, pk)
        if subscription is not None:
            sync_subscription(subscription)

    _after_commit(push, f"subscription {pk}")


# --- deletes ------------------------------------------------------------------------------
# The External rows cascade away with the local row, so their ids are read before the delete.


def _deleted(external_model: type[Model], field: str, action: str) -> Callable[..., None]:
    def receiver(sender: type[Model], instance: Any, **kwargs: Any) -> None:
        if not autosync_active():
            return
        ids = list(
            external_model._default_manager.filter(**{field: instance.pk}).values_list(
                "provider", "external_id"
            )
        )
        for provider, external_id in ids:
            _after_commit(
                functools.partial(_delete_at_provider, action, provider, external_id),
                f"{action} of {provider}:{external_id}",
            )

    return receiver


def _delete_at_provider(action: str, provider: str, external_id: str) -> None:
    from django_payments_sync.backends import get_backend
    from django_payments_sync.sync import catalog, customers, subscriptions

    backend = get_backend()
    if backend.provider_name != provider:
        return  # linked to a provider that is no longer configured
    jobs: dict[str, Callable[..., Any]] = {
        "delete_customer": customers.delete_provider_customer,
        "archive_product": _archive_product_only,
        "archive_price": catalog.archive_provider_price,
        "cancel_subscription": subscriptions.cancel_provider_subscription,
    }
    jobs[action](external_id, backend=backend)


def _archive_product_only(external_id: str, *, backend: Any) -> None:
    # Its prices are archived by their own delete receivers (the cascade sends one each).
    from django_payments_sync.exceptions import ObjectNotFound

    with contextlib.suppress(ObjectNotFound):
        backend.archive_product(external_id)


def connect() -> None:
    """Connect the receivers, once the models are ready (Product and Pricing are swappable)."""
    product_model, pricing_model = get_product_model(), get_pricing_model()
    for model in (Customer, product_model, pricing_model, Subscription):
        pre_save.connect(
            _mark_pending,
            sender=model,
            dispatch_uid=f"payments_sync_pending_{model._meta.label_lower}",
        )
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid="payments_sync_customer_saved")
    post_save.connect(
        _customer_saved, sender=BillingInformation, dispatch_uid="payments_sync_billing_saved"
    )
    post_save.connect(
        _catalog_saved, sender=product_model, dispatch_uid="payments_sync_product_saved"
    )
    post_save.connect(
        _catalog_saved, sender=pricing_model, dispatch_uid="payments_sync_pricing_saved"
    )
    post_save.connect(
        _subscription_saved, sender=Subscription, dispatch_uid="payments_sync_subscription_saved"
    )
    post_save.connect(_meter_saved, sender=Meter, dispatch_uid="payments_sync_meter_saved")
    pre_delete.connect(
        _deleted(ExternalCustomer, "customer_id", "delete_customer"),
        sender=Customer,
        dispatch_uid="payments_sync_customer_deleted",
        weak=False,
    )
    pre_delete.connect(
        _deleted(ExternalProduct, "product_id", "archive_product"),
        sender=product_model,
        dispatch_uid="payments_sync_product_deleted",
        weak=False,
    )
    pre_delete.connect(
        _deleted(ExternalPricing, "pricing_id", "archive_price"),
        sender=pricing_model,
        dispatch_uid="payments_sync_pricing_deleted",
        weak=False,
    )
    pre_delete.connect(
        _deleted(ExternalSubscription, "subscription_id", "cancel_subscription"),
        sender=Subscription,
        dispatch_uid="payments_sync_subscription_deleted",
        weak=False,
    )
