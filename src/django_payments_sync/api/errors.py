"""What the API views share: clean answers to refusals and provider failures, own-row lists."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from django_payments_sync.exceptions import PolicyViolation, ProviderError, UnsupportedOperation
from django_payments_sync.interactor.subscriptions import CONFLICT_CODES

logger = logging.getLogger(__name__)


def error_response(exc: Exception) -> Response | None:
    """The answer for one of our exceptions, or ``None`` to let DRF handle ``exc``.

    A business rule answers 409 (the state forbids it) or 400 (the request is wrong) with its
    message; the provider answers 503 when retrying may help and 502 otherwise, with the
    ``user_message`` only: its details go to the log, never to the client.
    """
    if isinstance(exc, PolicyViolation):
        code = exc.code
        http: int = (
            status.HTTP_409_CONFLICT if code in CONFLICT_CODES else status.HTTP_400_BAD_REQUEST
        )
        return Response({"detail": str(exc), "code": code}, status=http)
    if isinstance(exc, UnsupportedOperation):
        return Response(
            {"detail": _("The payment provider does not offer this."), "code": "unsupported"},
            status=status.HTTP_501_NOT_IMPLEMENTED,
        )
    if isinstance(exc, ProviderError):
        logger.warning("Payment provider error: %s", exc, exc_info=True)
        body: dict[str, Any] = {
            "detail": exc.user_message,
            "user_message": exc.user_message,
            "code": exc.code or ("provider_unavailable" if exc.retryable else "provider_error"),
            "retryable": exc.retryable,
        }
        http = status.HTTP_503_SERVICE_UNAVAILABLE if exc.retryable else status.HTTP_502_BAD_GATEWAY
        return Response(body, status=http)
    return None


class InteractorErrorsMixin:
    """Turns the interactor's exceptions into clean JSON answers in an ``APIView``."""

    def handle_exception(self, exc: Exception) -> Response:
        response = error_response(exc)
        if response is not None:
            return response
        return super().handle_exception(exc)  # type: ignore[misc]


class CustomerRowsListMixin(ListModelMixin):
    """``GET``: a page of the requester's own rows; none before the requester has a customer.

    Subclasses implement :meth:`customer_rows`; the customer comes from the request through
    the adapter, never from the client.
    """

    def customer_rows(self, customer: Any) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        from django_payments_sync.interactor.customers import existing_customer_for_request

        customer = existing_customer_for_request(self.request)  # type: ignore[attr-defined]
        if customer is None:
            return self.get_serializer_class().Meta.model.objects.none()  # type: ignore[attr-defined]
        return self.customer_rows(customer)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)
