"""Provider backends: the contract, the shipped backends, and loading the configured one."""

from __future__ import annotations

import functools

from django.utils.module_loading import import_string

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.conf import on_reload, payments_settings
from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured


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

__all__ = ["BaseBackend", "get_backend", "get_backend_class"]
