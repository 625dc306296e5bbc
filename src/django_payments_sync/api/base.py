"""The base of every view of the library's REST API."""

from __future__ import annotations

from django_payments_sync.api.errors import InteractorErrorsMixin
from django_payments_sync.api.schema import LibrarySchema


class PaymentsViewMixin(InteractorErrorsMixin):
    """What every library view shares: clean answers to the interactor's exceptions, and its
    own schema inspector, so ``GET schema/`` works with the host's ``DEFAULT_SCHEMA_CLASS``."""

    schema = LibrarySchema()
