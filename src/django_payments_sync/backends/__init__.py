"""Provider backends: the contract, the shipped backends, and loading the configured one."""

from __future__ import annotations

import functools

from django.utils.module_loading import import_string

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.conf import on_reload, payments_settings
from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured

#: The backends shipped with the package, by ``provider_name``: display name and dotted path.
#: The provider column of the link tables offers these (and the configured backend's name).
PROVIDERS: dict[str, tuple[str, str]] = {
    "stripe": ("Stripe", "django_payments_sync.backends.stripe.StripeBackend"),
    "paddle": ("Paddle", "django_payments_sync.backends.paddle.PaddleBackend"),
    "locmem": ("In-memory (tests)", "django_payments_sync.backends.locmem.LocmemBackend"),
}


def get_backend_class(path: str | None = None) -> type[BaseBackend]:
    """The backend class named by ``path`` (default ``PAYMENTS_SYNC["BACKEND"]``)."""
    path = path or payments_settings.BACKEND
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise PaymentsSyncImproperlyConfigured(
            f"PAYMENTS_SYNC['BACKEND'] = {path!r} could not be imported: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseBackend)):
        raise PaymentsSyncImproperlyConfigured(
            f"PAYMENTS_SYNC['BACKEND'] = {path!r} is not a subclass of "
            "django_payments_sync.backends.base.BaseBackend."
        )
    return cls


@functools.cache
def get_backend() -> BaseBackend:
    """The configured backend, built once per process (and again after the settings change)."""
    return get_backend_class()(**payments_settings.OPTIONS)


on_reload(get_backend.cache_clear)

__all__ = ["PROVIDERS", "BaseBackend", "get_backend", "get_backend_class"]
