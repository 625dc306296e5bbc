"""The requester's subscriptions: list, create, read, change and cancel them."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.checkout import ActivePricingField
from django_payments_sync.api.errors import CustomerRowsListMixin
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.customers import (
    customer_for_request,
    existing_customer_for_request,
)
from django_payments_sync.models import Subscription


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    product = serializers.CharField(source="pricing.product.name", read_only=True)
    is_live = serializers.BooleanField(read_only=True)
    promotion_code = serializers.CharField(
        source="discount.promotion_code.code",
        read_only=True,
        allow_null=True,
        help_text="The promotion code applied (subscriptions/<id>/discount/), or null.",
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "pricing",
            "product",
            "quantity",
            "status",
            "is_live",
            "promotion_code",
            "current_period_start",
            "current_period_end",
            "trial_end",
            "cancel_at_period_end",
            "canceled_at",
            "ended_at",
            "sync_status",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionCreateSerializer(serializers.Serializer[Any]):
    pricing = ActivePricingField(help_text="The id of a recurring price from plans/.")
    quantity = serializers.IntegerField(min_value=1, default=1)


class SubscriptionUpdateSerializer(serializers.Serializer[Any]):
    pricing = ActivePricingField(required=False, help_text="Switch to this recurring price.")
    quantity = serializers.IntegerField(min_value=1, required=False)
    cancel_at_period_end = serializers.BooleanField(
        required=False, help_text="false resumes a subscription set to end at the period's end."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Send at least one of pricing, quantity, cancel_at_period_end."
            )
        return attrs


class SubscriptionCancelSerializer(serializers.Serializer[Any]):
    at_period_end = serializers.BooleanField(
        default=True, help_text="false cancels at once instead of at the end of the period."
    )


class SubscriptionListView(PaymentsViewMixin, CustomerRowsListMixin, GenericAPIView[Subscription]):
    """``GET``: the requester's subscriptions. ``POST``: subscribe directly, charging the
    default payment method (without one, use checkout/)."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer

    def customer_rows(self, customer: Any) -> Any:
        return payments.subscriptions.list_for(customer)

    @extend_schema(operation_id="subscriptions_list", responses=SubscriptionSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSerializer})
    def post(self, request: Request) -> Response:
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = payments.create_subscription(
            customer_for_request(request),
            serializer.validated_data["pricing"],
            serializer.validated_data["quantity"],
        )
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(PaymentsViewMixin, GenericAPIView[Subscription]):
    """One of the requester's subscriptions; any other id answers 404, like a missing one."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer

    def get_object(self) -> Subscription:
        customer = existing_customer_for_request(self.request)
        if customer is None:
            raise Http404("No such subscription.")
        try:
            return payments.subscriptions.get_for(customer, int(self.kwargs["pk"]))
        except Subscription.DoesNotExist:
            raise Http404("No such subscription.") from None

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        subscription = self.get_object()
        serializer = SubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = payments.update_subscription(subscription, **serializer.validated_data)
        return Response(SubscriptionSerializer(subscription).data)

    # 200 with the subscription, not 204: a cancellation at the period's end leaves it live,
    # and its cancel_at_period_end and current_period_end tell the client when it ends.
    @extend_schema(
        parameters=[SubscriptionCancelSerializer], responses={200: SubscriptionSerializer}
    )
    def delete(self, request: Request, pk: int) -> Response:
        subscription = self.get_object()
        data = request.data if request.data else request.query_params
        serializer = SubscriptionCancelSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        subscription = payments.cancel_subscription(
            subscription, at_period_end=serializer.validated_data["at_period_end"]
        )
        return Response(SubscriptionSerializer(subscription).data)
