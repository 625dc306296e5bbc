"""Webhooks: receive -> verify -> persist -> apply in order under a lock; one view per provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_payments_sync.models import WebhookEvent


def process_webhook_request(body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """Verify, store and apply one webhook request outside HTTP; returns the stored event.

    Raises :class:`~django_payments_sync.exceptions.WebhookVerificationError` when the
    request fails verification (nothing is stored then). Applies in the call whatever
    ``WEBHOOK_PROCESSING`` says; a failure is recorded on the returned row.
    """
    from django_payments_sync.backends import get_backend
    from django_payments_sync.webhooks.ingest import ingest_event
    from django_payments_sync.webhooks.processing import process_event

    event = get_backend().verify_webhook(body, headers)
    row, created = ingest_event(event)
    if not created and row.status == "received":
        return process_event(row) or row
    return row
