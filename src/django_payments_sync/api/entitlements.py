"""Entitlements in the API: ``GET entitlements/`` and the ``HasFeature`` permission class."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.permissions import AND, OR, BasePermission, IsAuthenticated, OperandHolder
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_payments_sync.api.base import PaymentsViewMixin
from django_payments_sync.api.schema import extend_schema
from django_payments_sync.interactor.entitlements import entitlements_for_request


def _hold(operator: Any, first: Any, second: Any) -> OperandHolder:
    # DRF's stubs take only permission classes; an instance of HasFeature is called like one.
    return OperandHolder(operator, first, second)


class HasFeature(BasePermission):
    """A DRF permission: the requester's plan (or the free tier) includes ``feature``.

    ``permission_classes = [IsAuthenticated, HasFeature("sso")]``: DRF instantiates each
    entry, and an instance of this class answers with itself. It composes with ``&``, ``|``
    and ``~`` like DRF's own classes. The check costs one query per request at most.
    """

    code = "feature_not_in_plan"

    def __init__(self, feature: str) -> None:
        if not isinstance(feature, str) or not feature:
            raise TypeError("HasFeature needs a feature name, e.g. HasFeature('sso').")
        self.feature = feature
        self.message = gettext("Your plan does not include %(feature)s.") % {"feature": feature}

    def __call__(self) -> HasFeature:
        return self

    def __and__(self, other: Any) -> OperandHolder:
        return _hold(AND, self, other)

    def __rand__(self, other: Any) -> OperandHolder:
        return _hold(AND, other, self)

    def __or__(self, other: Any) -> OperandHolder:
        return _hold(OR, self, other)

    def __ror__(self, other: Any) -> OperandHolder:
        return _hold(OR, other, self)

    def __repr__(self) -> str:
        return f"HasFeature({self.feature!r})"

    def has_permission(self, request: Request, view: Any) -> bool:
        return entitlements_for_request(request).has_feature(self.feature)


class EntitlementsSerializer(serializers.Serializer[Any]):
    features = serializers.ListField(
        child=serializers.CharField(), help_text="The features of the plans and the free tier."
    )
    limits = serializers.DictField(
        child=serializers.JSONField(), help_text="Each limit's most generous value, e.g. seats."
    )
    plans = serializers.ListField(
        child=serializers.IntegerField(), help_text="The plans (product ids of plans/) held."
    )
    free_tier = serializers.BooleanField(help_text="true when no plan is held.")


class EntitlementsView(PaymentsViewMixin, APIView):
    """The requester's features and limits: their plans' over the free tier."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=EntitlementsSerializer)
    def get(self, request: Request) -> Response:
        entitlements = entitlements_for_request(request)
        return Response(EntitlementsSerializer(entitlements.as_dict()).data)
