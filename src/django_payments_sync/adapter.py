"""The adapter: host-project policy in one overridable class, loaded from ``PAYMENTS_SYNC["ADAPTER"]``."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

from django_payments_sync.conf import on_reload, payments_settings

if TYPE_CHECKING:
    from django.http import HttpRequest


class DefaultPaymentsAdapter:
    """Default host policy. Subclass it and point ``PAYMENTS_SYNC["ADAPTER"]`` at your class."""

    def get_customer_owner(self, request: HttpRequest) -> Any:
        """Who pays for ``request``: by default the authenticated user."""
        return request.user


@functools.cache
def get_adapter() -> DefaultPaymentsAdapter:
    """The configured adapter instance (one per process, rebuilt when the settings change)."""
    cls = import_string(payments_settings.ADAPTER)
    return cls()


on_reload(get_adapter.cache_clear)
