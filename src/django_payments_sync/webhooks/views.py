"""Webhook endpoints: receive, verify, persist, then apply (in the request or through a task)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from django.db import DatabaseError, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import ProviderEvent
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import WebhookVerificationError
from django_payments_sync.models import WebhookEvent, WebhookEventStatus
from django_payments_sync.webhooks import ingest, processing

logger = logging.getLogger("django_payments_sync.webhooks")

Status = WebhookEventStatus

#: Methods a subclass may not override: together they guarantee verify-before-store.
_SEALED = ("dispatch", "post", "verify")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class WebhookView(View):
    """A provider's webhook endpoint.

    Every request is verified by the backend before anything is stored: a failure answers 400
    and stores nothing. A verified event is stored first (a duplicate answers 200), then
    applied in order under the lock of its ordering key; in ``"task"`` mode it is handed to
    the task backend and the answer is 200 at once. Subclasses name their provider and
    nothing else: ``dispatch``, ``post`` and ``verify`` cannot be overridden.
    """

    #: The ``provider_name`` of the backend this endpoint serves (``None``: the configured one).
    provider: ClassVar[str | None] = None
    http_method_names: ClassVar[list[str]] = ["post"]  # type: ignore[misc]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _SEALED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} may not override WebhookView.{name}(): verification "
                    "happens there for every provider."
                )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().dispatch(request, *args, **kwargs)

    def get_backend(self) -> BaseBackend:
        backend = get_backend()
        # The class names its provider, or the route does (``<provider>/webhook/``).
        wanted = self.provider or self.kwargs.get("provider")
        if wanted is not None and backend.provider_name != wanted:
            # This provider's endpoint is not in use on this site.
            raise Http404(f"No {wanted} backend is configured.")
        return backend

    def read_body(self, request: HttpRequest) -> bytes:
        limit = int(payments_settings.WEBHOOK_MAX_BODY_SIZE)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise WebhookVerificationError(f"The body is larger than {limit} bytes.")
        body = request.read(limit + 1)
        if len(body) > limit:
            raise WebhookVerificationError(f"The body is larger than {limit} bytes.")
        return body

    def verify(self, request: HttpRequest) -> ProviderEvent:
        backend = self.get_backend()
        body = self.read_body(request)
        event = backend.verify_webhook(body, request.headers)
        if event.provider != backend.provider_name:
            raise WebhookVerificationError("The event is not from this endpoint's provider.")
        return event

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            event = self.verify(request)
        except WebhookVerificationError as exc:
            logger.warning("Refused a webhook request: %s", exc)
            return JsonResponse({"error": str(exc)}, status=400)
        try:
            if payments_settings.WEBHOOK_PROCESSING in ("task", "celery"):
                return self.enqueue(*processing.store_event(event))
            return self.apply(*ingest.ingest_event(event))
        except DatabaseError:
            # Storing is the first write, so nothing is half-written: the provider retries.
            logger.exception("Database unavailable for webhook event %s", event.id)
            return JsonResponse(
                {"id": event.id, "error": "temporarily unavailable"},
                status=503,
                headers={"Retry-After": "30"},
            )

    def apply(self, row: WebhookEvent, created: bool) -> HttpResponse:
        """Answer for an event applied in the request (``ingest_event`` settled a new one); a
        stored one still to apply is applied now. 500 on failure: the provider delivers again."""
        if not created and row.status == Status.FAILED:
            # The provider retries what we answered 500 to: try again.
            WebhookEvent.objects.filter(pk=row.pk, status=Status.FAILED).update(
                status=Status.RECEIVED
            )
        if not created and row.status in (Status.RECEIVED, Status.FAILED):
            row.status = Status.RECEIVED
            processing.process_event(row)
        body = {"id": row.event_id, "status": row.status, "duplicate": not created}
        if row.status == Status.FAILED:
            return JsonResponse({**body, "error": "processing failed"}, status=500)
        return JsonResponse(body, status=200)

    def enqueue(self, row: WebhookEvent, created: bool) -> HttpResponse:
        """Hand the stored event to the task backend and answer at once."""
        from django_payments_sync.webhooks.tasks import enqueue_webhook_event

        requeue = not created and row.status == Status.FAILED
        if requeue:
            WebhookEvent.objects.filter(pk=row.pk, status=Status.FAILED).update(
                status=Status.RECEIVED
            )
        if created or requeue:
            pk = row.pk
            transaction.on_commit(lambda: enqueue_webhook_event(pk))
        return JsonResponse(
            {
                "id": row.event_id,
                "status": "queued" if created else row.status,
                "duplicate": not created,
            }
        )


class StripeWebhookView(WebhookView):
    """``POST /api/payment/stripe/webhook/``: Stripe's events, signed with the endpoint secret."""

    provider = "stripe"


class PaddleWebhookView(WebhookView):
    """``POST /api/payment/paddle/webhook/``: Paddle's notifications, signed
    (``Paddle-Signature``) with the notification destination's secret key."""

    provider = "paddle"
