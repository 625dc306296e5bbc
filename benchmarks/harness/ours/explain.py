"""PostgreSQL's plans for the webhook log's hot lookups (what ``tests/webhooks/test_retention.py``
asserts on a smaller log), on the benchmark's big log: one JSON line, lookup -> plan.

The lookups are the library's own querysets: the ingest's stored-or-pending read, the next
pending event of a key, the prune batch, and the duplicate check.
"""

from __future__ import annotations

import datetime as dt
import json

import django


def main() -> None:
    django.setup()
    from django.utils import timezone

    from django_payments_sync.backends.types import ProviderEvent
    from django_payments_sync.models import WebhookEvent
    from django_payments_sync.webhooks import ingest, retention

    table = WebhookEvent._meta.db_table
    key = "customer:cus_bulk7"
    now = timezone.now()
    incoming = ProviderEvent(
        provider="stripe",
        id="evt_explain",
        type="customer.updated",
        created=now,
        livemode=False,
        object_type="customer",
        object_id="cus_bulk7",
        object={},
    )
    lookups = {
        "ingest": ingest.stored_or_pending_query(incoming, key),
        "next pending": WebhookEvent.objects.filter(
            provider="stripe", ordering_key=key, status="received"
        ).order_by("provider_created_at")[:2],
        "prune": retention.prunable(now - dt.timedelta(days=7)).order_by("pk")[:1000],
        "duplicate": WebhookEvent.objects.filter(provider="stripe", event_id="evt_bulk_123"),
    }
    out = {}
    for name, queryset in lookups.items():
        plan = queryset.explain()
        out[name] = {
            "index": "Index" in plan and f"Seq Scan on {table}" not in plan,
            "plan": plan.splitlines()[:6],
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
