"""Send one Celery message per received event of the database, oldest first: what the endpoint
sends after each commit in ``"celery"`` mode (``enqueue_webhook_event``, the same call).

Prints one JSON line: ``{"enqueued": n, "seconds": s}``.
"""

from __future__ import annotations

import json
import time

import django


def main() -> None:
    django.setup()
    from django_payments_sync.models import WebhookEvent
    from django_payments_sync.webhooks.tasks import enqueue_webhook_event

    started = time.perf_counter()
    pks = list(
        WebhookEvent.objects.filter(status="received").order_by("pk").values_list("pk", flat=True)
    )
    for pk in pks:
        enqueue_webhook_event(pk)
    print(json.dumps({"enqueued": len(pks), "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
