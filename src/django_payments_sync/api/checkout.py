"""Checkout and orders: ``POST checkout/`` opens the provider's hosted page; ``GET orders/``."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.errors import CustomerRowsListMixin
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.customers import (
    customer_for_request,
    existing_customer_for_request,
)
from django_payments_sync.models import Order, PaymentAttempt, get_pricing_model


class ActivePricingField(serializers.PrimaryKeyRelatedField[Any]):
    """A pricing id, among the active prices of active products only."""

    def __init__(self, **kwargs: Any) -> None:
        # An explicit integer pk field also gives the OpenAPI schema its type.
        kwargs.setdefault("pk_field", serializers.IntegerField())
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return get_pricing_model()._default_manager.filter(active=True, product__active=True)


class CheckoutRequestSerializer(serializers.Serializer[Any]):
    pricing = ActivePricingField(help_text="The id of a price from plans/.")
    quantity = serializers.IntegerField(min_value=1, default=1)
    success_url = serializers.CharField(
        required=False,
        max_length=2048,
        help_text="Where to land after paying: a path or a URL of this site "
        "(default: CHECKOUT_SUCCESS_URL).",
    )
    cancel_url = serializers.CharField(
        required=False,
        max_length=2048,
        help_text="Where to land after canceling (default: CHECKOUT_CANCEL_URL).",
    )
    promotion_code = serializers.CharField(
        required=False,
        max_length=50,
        help_text="A promotion code the customer typed; refused with its reason (expired, "
        "used up, not for this price).",
    )


class CheckoutSessionSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="The provider's checkout session id.")
    url = serializers.URLField(help_text="Send the customer's browser here.")
    order_id = serializers.IntegerField()


class CheckoutView(PaymentsViewMixin, GenericAPIView[Any]):
    """Open a checkout for a price: creates an Order and a PaymentAttempt, answers ``{id, url}``."""

    permission_classes = [IsAuthenticated]
    serializer_class = CheckoutRequestSerializer

    @extend_schema(request=CheckoutRequestSerializer, responses={201: CheckoutSessionSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = payments.create_checkout(
            customer_for_request(request),
            data["pricing"],
            data["quantity"],
            request=request,
            success_url=data.get("success_url"),
            cancel_url=data.get("cancel_url"),
            promotion_code=data.get("promotion_code"),
        )
        return Response(CheckoutSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class PaymentAttemptSerializer(serializers.ModelSerializer[PaymentAttempt]):
    class Meta:
        model = PaymentAttempt
        fields = ["id", "status", "failure_message", "created_at"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer[Order]):
    product = serializers.CharField(
        source="pricing.product.name",
        read_only=True,
        allow_null=True,
        help_text="null for a one-off charge of an ad-hoc amount (see description).",
    )
    payment_attempts = PaymentAttemptSerializer(many=True, read_only=True)
    promotion_code = serializers.CharField(
        source="promotion_code.code", read_only=True, allow_null=True
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "pricing",
            "product",
            "description",
            "quantity",
            "amount",
            "amount_discount",
            "promotion_code",
            "amount_refunded",
            "currency",
            "status",
            "subscription",
            "paid_at",
            "created_at",
            "payment_attempts",
        ]
        read_only_fields = fields


class OrderListView(PaymentsViewMixin, CustomerRowsListMixin, GenericAPIView[Order]):
    """The requester's own orders, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    def customer_rows(self, customer: Any) -> Any:
        return payments.orders.list_for(customer)

    @extend_schema(operation_id="orders_list", responses=OrderSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class OrderCancelView(PaymentsViewMixin, GenericAPIView[Order]):
    """The customer came back from the checkout page without paying: end the pending order."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request: Request, pk: int) -> Response:
        customer = existing_customer_for_request(request)
        try:
            if customer is None:
                raise Order.DoesNotExist
            order = payments.orders.get_for(customer, pk)
        except Order.DoesNotExist:
            raise Http404("No such order.") from None
        return Response(OrderSerializer(payments.cancel_order(order)).data)
