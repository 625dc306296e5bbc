"""``GET usage/``: what the requester used of each meter so far in the period."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.customers import existing_customer_for_request


class MeteredPriceSerializer(serializers.Serializer[Any]):
    pricing = serializers.IntegerField(help_text="The metered pricing that bills this meter.")
    unit_amount = serializers.IntegerField(help_text="Per unit, in minor units (cents).")
    currency = serializers.CharField(help_text="Lower-case ISO 4217 code.")
    estimate = serializers.IntegerField(
        help_text="value x unit_amount: what the period's usage so far costs (before tax and "
        "discounts)."
    )


class MeterUsageSerializer(serializers.Serializer[Any]):
    meter = serializers.CharField(help_text="The meter's event name.")
    display_name = serializers.CharField()
    aggregation = serializers.ChoiceField(choices=["sum", "count", "last"])
    value = serializers.IntegerField(help_text="So far in the period, as the meter aggregates.")
    since = serializers.DateTimeField(help_text="The current period's start.")
    pending = serializers.IntegerField(help_text="Events recorded, not yet at the provider.")
    price = MeteredPriceSerializer(
        allow_null=True,
        help_text="The metered price of the requester's subscription that bills this meter; "
        "null when none does.",
    )


class UsageView(PaymentsViewMixin, APIView):
    """The requester's usage of every active meter since their current period started."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeterUsageSerializer(many=True))
    def get(self, request: Request) -> Response:
        customer = existing_customer_for_request(request)
        if customer is None:
            return Response([])
        return Response(MeterUsageSerializer(payments.usage_so_far(customer), many=True).data)
