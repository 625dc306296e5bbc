"""The public plan catalog: ``GET plans/``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor import payments


class PlanMeterSerializer(serializers.Serializer[Any]):
    event_name = serializers.CharField(help_text="The name usage is recorded under.")
    display_name = serializers.CharField()


class PlanPriceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The pricing id to send to checkout/.")
    nickname = serializers.CharField()
    amount = serializers.IntegerField(help_text="In minor units (cents).")
    currency = serializers.CharField(help_text="Lower-case ISO 4217 code.")
    interval = serializers.ChoiceField(
        choices=["day", "week", "month", "year"],
        allow_null=True,
        help_text="null for a one-time price.",
    )
    interval_count = serializers.IntegerField()
    trial_period_days = serializers.IntegerField(allow_null=True)
    min_quantity = serializers.IntegerField()
    max_quantity = serializers.IntegerField(allow_null=True)
    recurring = serializers.BooleanField()
    usage_type = serializers.ChoiceField(
        choices=["licensed", "metered"],
        allow_null=True,
        help_text="metered: amount is per unit of the meter's usage, billed at the period's end; "
        "null for a one-time price.",
    )
    meter = PlanMeterSerializer(allow_null=True, help_text="What a metered price counts.")
    amount_discount = serializers.IntegerField(
        help_text="What ?promotion_code= takes off amount (0 without one, or for a price the "
        "code is not for)."
    )
    discounted_amount = serializers.IntegerField(help_text="amount - amount_discount.")


class PlansQuerySerializer(serializers.Serializer[Any]):
    promotion_code = serializers.CharField(
        required=False,
        max_length=50,
        help_text="Show each price's amount under this code; an unknown, inactive, expired or "
        "used-up code answers 400 with its code.",
    )


class PlanSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    limits = serializers.DictField(
        child=serializers.JSONField(), help_text="From the product's metadata, e.g. seats."
    )
    prices = PlanPriceSerializer(many=True)


class PlansView(PaymentsViewMixin, APIView):
    """The active products with their active prices, features and limits (public, cached)."""

    # An APIView, not a GenericAPIView: there is no queryset to filter or page, and the
    # browsable API asks a GenericAPIView's get_queryset() for its filter form.
    permission_classes = [AllowAny]

    @extend_schema(parameters=[PlansQuerySerializer], responses=PlanSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = PlansQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        plans = payments.get_plans(query.validated_data.get("promotion_code") or None)
        return Response(PlanSerializer(plans, many=True).data)
