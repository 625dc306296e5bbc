"""Views of the billing API: they validate input and call the billing services, nothing more."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.billing import (
    BillingInformationSerializer,
    PortalLinkResultSerializer,
    PortalLinkSerializer,
    VatCheckResultSerializer,
    VatNumberCheckSerializer,
)
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor import billing
from django_payments_sync.interactor.customers import (
    customer_for_request,
    get_customer_owner,
)

NO_BILLING_INFO = _(
    "You have no billing information yet. Send it with PUT to this address to create it."
)


class VatCheckThrottle(ScopedRateThrottle):
    """Limits VAT-number checks per user: each one may cost a call to VIES.

    The scope is ``payments_sync_vat``; set ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    ["payments_sync_vat"]`` to change the rate (default :attr:`default_rate`).
    """

    default_rate = "30/minute"

    def get_rate(self) -> str | None:
        # Read the rates now, not at import: hosts (and tests) may change REST_FRAMEWORK.
        rates: dict[str, Any] = dict(api_settings.DEFAULT_THROTTLE_RATES or {})
        rate = rates.get(str(self.scope), self.default_rate)
        return None if rate is None else str(rate)


class BillingInformationView(PaymentsViewMixin, GenericAPIView[Any]):
    """``GET``, ``PUT`` (create or replace) and ``PATCH`` the requester's billing information."""

    permission_classes = [IsAuthenticated]
    serializer_class = BillingInformationSerializer

    @extend_schema(operation_id="billing_retrieve", responses=BillingInformationSerializer)
    def get(self, request: Request) -> Response:
        # The customer and its billing information in one query (GET billing/: 3 in all).
        info = billing.billing_info_of_owner(get_customer_owner(request))
        if info is None:
            raise NotFound(NO_BILLING_INFO)
        return Response(self.get_serializer(info).data)

    @extend_schema(
        request=BillingInformationSerializer,
        responses={200: BillingInformationSerializer, 201: BillingInformationSerializer},
    )
    def put(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_for_request(request)
        created = billing.get_billing_info(customer) is None
        info = billing.create_user_billing_info(customer, serializer.validated_data)
        return Response(
            self.get_serializer(info).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=BillingInformationSerializer, responses=BillingInformationSerializer)
    def patch(self, request: Request) -> Response:
        def validate(current: Any) -> Any:
            serializer = self.get_serializer(current, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data

        # Read under its row lock, with the customer, in one query; validated and saved there.
        info = billing.change_billing_info(get_customer_owner(request), validate)
        if info is None:
            raise NotFound(NO_BILLING_INFO)
        return Response(self.get_serializer(info).data)


class VatNumberCheckView(PaymentsViewMixin, GenericAPIView[Any]):
    """``POST`` a VAT number: checked offline, then with VIES; nothing is saved."""

    permission_classes = [IsAuthenticated]
    serializer_class = VatNumberCheckSerializer
    throttle_classes = [VatCheckThrottle]
    throttle_scope = "payments_sync_vat"

    @extend_schema(request=VatNumberCheckSerializer, responses=VatCheckResultSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = billing.validate_vies(data["vat_number"], data.get("country") or None)
        answer = {
            "vat_number": result.full_number,
            "country_code": result.country_code,
            "status": str(result.status),
            "valid": result.is_valid,
            "name": result.name,
            "address": result.address,
            "request_date": result.request_date,
            "consultation_number": result.request_identifier,
            "fault_code": result.fault_code,
            "message": result.message,
            "cached": result.cached,
        }
        return Response(VatCheckResultSerializer(answer).data)


class PortalLinkView(PaymentsViewMixin, GenericAPIView[Any]):
    """``POST``: a link to the provider's customer portal for the requester's own customer."""

    permission_classes = [IsAuthenticated]
    serializer_class = PortalLinkSerializer

    @extend_schema(request=PortalLinkSerializer, responses=PortalLinkResultSerializer)
    def post(self, request: Request) -> Response:
        serializer = PortalLinkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        customer = customer_for_request(request)
        url = billing.get_customer_management_portal_link(
            customer, serializer.validated_data.get("return_url") or None, request=request
        )
        return Response(PortalLinkResultSerializer({"url": url}).data)
