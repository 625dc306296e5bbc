"""``POST subscriptions/<id>/discount/``: a promotion code on one of the requester's
subscriptions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from django_payments_sync.api.schema import extend_schema
from django_payments_sync.api.subscriptions import SubscriptionDetailView, SubscriptionSerializer
from django_payments_sync.interactor import payments


class DiscountRequestSerializer(serializers.Serializer[Any]):
    promotion_code = serializers.CharField(max_length=50, help_text="What the customer typed.")


class SubscriptionDiscountView(SubscriptionDetailView):
    """Apply a promotion code to one of the requester's subscriptions (another's: 404)."""

    http_method_names = ["post", "options"]

    @extend_schema(request=DiscountRequestSerializer, responses=SubscriptionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        subscription = self.get_object()
        serializer = DiscountRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payments.apply_promotion_code(subscription, serializer.validated_data["promotion_code"])
        subscription.refresh_from_db()
        return Response(SubscriptionSerializer(subscription).data)
