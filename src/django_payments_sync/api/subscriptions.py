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
from django_payments_sync.models import CouponDuration, Subscription


class SubscriptionDiscountSerializer(serializers.Serializer[Any]):
    """A subscription's discount: its code, what the coupon takes off, and for how long."""

    promotion_code = serializers.CharField(source="promotion_code.code")
    name = serializers.CharField(source="promotion_code.coupon.name")
    percent_off = serializers.DecimalField(
        source="promotion_code.coupon.percent_off",
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="Or amount_off.",
    )
    amount_off = serializers.IntegerField(
        source="promotion_code.coupon.amount_off",
        allow_null=True,
        help_text="Minor units of currency.",
    )
    currency = serializers.CharField(
        source="promotion_code.coupon.currency", help_text='Of amount_off ("" for a percentage).'
    )
    duration = serializers.ChoiceField(
        source="promotion_code.coupon.duration", choices=CouponDuration.choices
    )
    duration_in_months = serializers.IntegerField(
        source="promotion_code.coupon.duration_in_months", allow_null=True
    )
    applied_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a repeating discount ends; null for once (the next invoice) and forever.",
    )


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    product = serializers.CharField(source="pricing.product.name", read_only=True)
    is_live = serializers.BooleanField(read_only=True)
    pause_behavior = serializers.CharField(
        read_only=True,
        help_text='"" while payments are collected; else keep_as_draft, mark_uncollectible '
        "or void (collection paused).",
    )
    is_entitled = serializers.SerializerMethodField(
        help_text="Whether it gives access now (see the lifecycle docs)."
    )
    action_required = serializers.SerializerMethodField(
        help_text="A payment waits for the customer (authentication) on hosted_invoice_url."
    )
    hosted_invoice_url = serializers.SerializerMethodField(
        help_text="The provider's page of the open invoice to pay or confirm, or null."
    )

    def get_is_entitled(self, subscription: Subscription) -> bool:
        return subscription.is_entitled()

    def _open_invoice(self, subscription: Subscription) -> Any:
        found = getattr(subscription, "open_invoices", None)
        if found is None:  # not prefetched (an answer after a change): one query
            found = list(subscription.invoices.filter(status="open", amount_remaining__gt=0))
        return max(found, key=lambda i: (i.issued_at is not None, i.issued_at, i.pk), default=None)

    def get_action_required(self, subscription: Subscription) -> bool:
        invoice = self._open_invoice(subscription)
        return bool(invoice is not None and invoice.action_required)

    def get_hosted_invoice_url(self, subscription: Subscription) -> str | None:
        invoice = self._open_invoice(subscription)
        return (invoice.hosted_invoice_url or None) if invoice is not None else None

    promotion_code = serializers.CharField(
        source="discount.promotion_code.code",
        read_only=True,
        allow_null=True,
        help_text="The promotion code applied (subscriptions/<id>/discount/), or null.",
    )
    discount = SubscriptionDiscountSerializer(
        read_only=True, allow_null=True, help_text="The discount applied, or null."
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
            "is_entitled",
            "action_required",
            "hosted_invoice_url",
            "pause_behavior",
            "resumes_at",
            "past_due_since",
            "promotion_code",
            "discount",
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
    proration_behavior = serializers.ChoiceField(
        choices=["create_prorations", "always_invoice", "none"],
        required=False,
        help_text="How this change of price or quantity is prorated (default: the "
        "PRORATION_BEHAVIOR setting).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not set(attrs) - {"proration_behavior"}:
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


class OwnSubscriptionMixin:
    """The requester's subscription named by the URL's ``pk``; any other id answers 404."""

    kwargs: dict[str, Any]

    def get_object(self) -> Subscription:
        customer = existing_customer_for_request(self.request)  # type: ignore[attr-defined]
        if customer is None:
            raise Http404("No such subscription.")
        try:
            return payments.subscriptions.get_for(customer, int(self.kwargs["pk"]))
        except Subscription.DoesNotExist:
            raise Http404("No such subscription.") from None


class SubscriptionDetailView(PaymentsViewMixin, OwnSubscriptionMixin, GenericAPIView[Subscription]):
    """One of the requester's subscriptions; any other id answers 404, like a missing one."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer

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
