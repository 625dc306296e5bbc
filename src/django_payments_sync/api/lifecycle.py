"""A subscription's lifecycle in the API: the preview of a change, pause and resume."""

from __future__ import annotations

import dataclasses
from typing import Any

from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.checkout import ActivePricingField
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.api.subscriptions import (
    OwnSubscriptionMixin,
    SubscriptionDiscountSerializer,
    SubscriptionSerializer,
)
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.lifecycle import PRORATION_BEHAVIORS
from django_payments_sync.models import PauseBehavior, Subscription


class PreviewQuerySerializer(serializers.Serializer[Any]):
    pricing = ActivePricingField(required=False, help_text="The recurring price to move to.")
    quantity = serializers.IntegerField(min_value=1, required=False)
    proration_behavior = serializers.ChoiceField(
        choices=PRORATION_BEHAVIORS,
        required=False,
        help_text="Default: the PRORATION_BEHAVIOR setting.",
    )


class InvoiceLineSerializer(serializers.Serializer[Any]):
    description = serializers.CharField()
    amount = serializers.IntegerField(
        help_text="Minor units, before discounts; a credit is negative."
    )
    amount_discount = serializers.IntegerField(help_text="What discounts take off amount.")
    quantity = serializers.IntegerField()
    proration = serializers.BooleanField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)


class InvoicePreviewSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    subtotal = serializers.IntegerField(help_text="Before discounts and tax.")
    amount_discount = serializers.IntegerField(help_text="What discounts take off subtotal.")
    tax = serializers.IntegerField()
    total = serializers.IntegerField(help_text="subtotal - amount_discount + tax.")
    amount_due = serializers.IntegerField()
    date = serializers.DateTimeField(
        allow_null=True, help_text="When this invoice is issued (now for always_invoice)."
    )
    lines = InvoiceLineSerializer(many=True)
    discount = SubscriptionDiscountSerializer(
        allow_null=True,
        help_text="The subscription's discount when it takes something off this invoice, "
        "else null.",
    )


class PauseSerializer(serializers.Serializer[Any]):
    behavior = serializers.ChoiceField(
        choices=PauseBehavior.choices,
        default=PauseBehavior.VOID,
        help_text="What happens to invoices while paused.",
    )
    resumes_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Resume by itself then (else: resume/)."
    )


class SubscriptionPreviewView(
    PaymentsViewMixin, OwnSubscriptionMixin, GenericAPIView[Subscription]
):
    """``GET``: what the next invoice would be after a change of price or quantity
    (``?pricing=&quantity=&proration_behavior=``); nothing is changed."""

    permission_classes = [IsAuthenticated]
    serializer_class = InvoicePreviewSerializer

    @extend_schema(parameters=[PreviewQuerySerializer], responses=InvoicePreviewSerializer)
    def get(self, request: Request, pk: int) -> Response:
        subscription = self.get_object()
        query = PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = payments.preview_change(subscription, **query.validated_data)
        shown = dataclasses.asdict(preview)
        # The discount the preview takes (amounts only come from the provider).
        shown["discount"] = (
            getattr(subscription, "discount", None) if preview.amount_discount else None
        )
        return Response(InvoicePreviewSerializer(shown).data)


class SubscriptionPauseView(PaymentsViewMixin, OwnSubscriptionMixin, GenericAPIView[Subscription]):
    """``POST``: pause the subscription's payment collection (access stops meanwhile)."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer

    @extend_schema(request=PauseSerializer, responses=SubscriptionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        subscription = self.get_object()
        serializer = PauseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = payments.pause_subscription(subscription, **serializer.validated_data)
        return Response(SubscriptionSerializer(subscription).data)


class SubscriptionResumeView(PaymentsViewMixin, OwnSubscriptionMixin, GenericAPIView[Subscription]):
    """``POST``: collect a paused subscription's payments again."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer

    @extend_schema(request=None, responses=SubscriptionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        subscription = payments.resume_subscription(self.get_object())
        return Response(SubscriptionSerializer(subscription).data)
