"""The requester's invoices, newest first, and one of them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.errors import CustomerRowsListMixin
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor.customers import existing_customer_for_request
from django_payments_sync.models import Invoice


class InvoiceSerializer(serializers.ModelSerializer[Invoice]):
    subscription: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    is_payable = serializers.BooleanField(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "billing_reason",
            "currency",
            "subtotal",
            "amount_discount",
            "tax",
            "total",
            "amount_due",
            "amount_paid",
            "amount_remaining",
            "period_start",
            "period_end",
            "issued_at",
            "paid_at",
            "attempt_count",
            "next_payment_attempt",
            "action_required",
            "is_payable",
            "hosted_invoice_url",
            "invoice_pdf",
            "subscription",
        ]
        read_only_fields = fields


def invoices_of(customer: Any) -> QuerySet[Invoice]:
    """The customer's invoices, newest first (drafts are the provider's work in progress)."""
    return Invoice.objects.filter(customer=customer).exclude(status="draft")


class InvoiceListView(PaymentsViewMixin, CustomerRowsListMixin, GenericAPIView[Invoice]):
    """``GET``: the requester's invoices, newest first (kept by the provider's webhooks)."""

    permission_classes = [IsAuthenticated]
    serializer_class = InvoiceSerializer

    def customer_rows(self, customer: Any) -> QuerySet[Invoice]:
        return invoices_of(customer)

    @extend_schema(operation_id="invoices_list", responses=InvoiceSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class InvoiceDetailView(PaymentsViewMixin, GenericAPIView[Invoice]):
    """One of the requester's invoices; any other id answers 404, like a missing one."""

    permission_classes = [IsAuthenticated]
    serializer_class = InvoiceSerializer

    def get_object(self) -> Invoice:
        customer = existing_customer_for_request(self.request)
        if customer is None:
            raise Http404("No such invoice.")
        try:
            return invoices_of(customer).get(pk=int(self.kwargs["pk"]))
        except Invoice.DoesNotExist:
            raise Http404("No such invoice.") from None

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)
