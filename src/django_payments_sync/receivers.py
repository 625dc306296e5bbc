"""Signal receivers that django-payments-sync connects when the app is ready."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="payments_sync_user_post_save")
def custom_user_post_save(
    sender: type[Any], instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """On a user's creation, call the adapter's ``post_user_created`` once the row is committed.

    After commit, so a rolled-back sign-up creates nothing at the provider; updates and fixture
    loading (``raw``) are ignored. ``post_user_created`` must itself be idempotent, since a user
    created at checkout may already have what it creates.
    """
    if not created or raw:
        return
    from django_payments_sync.interactor.services import UserInteractor

    pk = instance.pk
    using = kwargs.get("using") or "default"

    def run() -> None:
        user = sender._default_manager.using(using).filter(pk=pk).first()
        if user is not None:
            UserInteractor().post_user_created(user)

    transaction.on_commit(run, using=using)


def _catalog_models_installed() -> bool:
    """Whether the product and pricing models (maybe swapped) resolve. When one does not,
    the receivers that need them are left unconnected: system check ``payments_sync.E008``
    names the setting, where raising here would end the start-up before any check runs."""
    from django.core.exceptions import ImproperlyConfigured

    from django_payments_sync.models import get_pricing_model, get_product_model

    try:
        get_product_model()
        get_pricing_model()
    except ImproperlyConfigured:
        return False
    return True


def _connect_plans_and_mail() -> None:
    from django_payments_sync.interactor.mailer import connect_signals
    from django_payments_sync.interactor.plans import connect_cache_invalidation

    if _catalog_models_installed():
        connect_cache_invalidation()
    connect_signals()


_connect_plans_and_mail()


def _connect_autosync() -> None:
    from django_payments_sync.sync.autosync import connect
    from django_payments_sync.sync.coupons import connect as connect_discounts

    if _catalog_models_installed():
        connect()
    connect_discounts()


_connect_autosync()


def _connect_accounts() -> None:
    from django_payments_sync.sync.accounts import connect

    connect()


_connect_accounts()
