"""Entitlements from the plans' features and limits: the helpers, the permission class, the
decorator, the template tag and ``GET entitlements/``, their queries, and the free tier."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from django_payments_sync.access import feature_required
from django_payments_sync.api.entitlements import HasFeature
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.entitlements import forget_entitlements
from django_payments_sync.models import Customer, SubscriptionStatus
from tests.checkout.conftest import LOCMEM_SETTINGS
from tests.factories import PricingFactory, ProductFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

ENTITLEMENTS_URL = "/api/payment/entitlements/"
FREE = {**LOCMEM_SETTINGS, "FREE_TIER": {"FEATURES": ["api"], "LIMITS": {"seats": 1, "x": "a"}}}


def subscribe(owner: Any, metadata: dict[str, Any], status: str = "active") -> Any:
    customer = Customer.objects.get_or_create(owner=owner, defaults={"email": "o@example.com"})[0]
    pricing = PricingFactory(product=ProductFactory(metadata=metadata))
    return SubscriptionFactory(customer=customer, pricing=pricing, status=status)


def fresh(user: Any) -> Any:
    """The owner as a new request would load it (nothing kept from an earlier check)."""
    return type(user).objects.get(pk=user.pk)


def test_an_owner_on_a_plan_has_its_features_and_limits(user: Any) -> None:
    subscribe(user, {"features": "sso, audit", "seats": "10"})

    assert payments.has_feature(fresh(user), "sso")
    assert payments.has_feature(fresh(user), "audit")
    assert not payments.has_feature(fresh(user), "api")
    assert payments.limit(fresh(user), "seats") == 10
    assert payments.limit(fresh(user), "projects") is None
    assert payments.limit(fresh(user), "projects", default=0) == 0


@override_settings(PAYMENTS_SYNC=FREE)
def test_an_owner_on_no_plan_has_the_free_tier(user: Any, other_user: Any) -> None:
    entitlements = payments.get_entitlements(user)
    assert entitlements.on_free_tier
    assert entitlements.as_dict() == {
        "features": ["api"],
        "limits": {"seats": 1, "x": "a"},
        "plans": [],
        "free_tier": True,
    }
    # A plan adds to the free tier, a larger number replacing the free tier's.
    subscription = subscribe(other_user, {"features": ["sso"], "seats": "10", "x": "b"})
    theirs = payments.get_entitlements(other_user)
    assert theirs.features == {"api", "sso"}
    assert theirs.limits == {"seats": 10, "x": "b"}
    assert theirs.plans == (subscription.pricing.product_id,)


@pytest.mark.parametrize(
    "status",
    ["past_due", "unpaid", "paused", "incomplete", "incomplete_expired", "canceled"],
)
def test_only_active_and_trialing_subscriptions_entitle(user: Any, status: str) -> None:
    subscribe(user, {"features": ["sso"]}, status=status)
    assert not payments.has_feature(fresh(user), "sso")
    subscribe(user, {"features": ["audit"]}, status=SubscriptionStatus.TRIALING)
    assert payments.get_entitlements(fresh(user)).features == {"audit"}


def test_two_plans_give_the_most_generous_limits(user: Any) -> None:
    subscribe(user, {"features": ["a"], "seats": "5", "exports": "true", "storage": 100})
    subscribe(user, {"features": ["b"], "seats": "3", "exports": "false", "storage": 50.5})
    entitlements = payments.get_entitlements(user)
    assert entitlements.features == {"a", "b"}
    assert entitlements.limits == {"seats": 5, "exports": True, "storage": 100}
    assert len(entitlements.plans) == 2


def test_another_owners_plan_grants_nothing(user: Any, other_user: Any) -> None:
    subscribe(other_user, {"features": ["sso"]})
    assert not payments.has_feature(user, "sso")


def test_has_feature_is_one_query_then_none(user: Any) -> None:
    subscribe(user, {"features": ["sso"], "seats": "4"})
    owner = fresh(user)
    with CaptureQueriesContext(connection) as first:
        assert payments.has_feature(owner, "sso")
    assert len(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as again:
        assert payments.has_feature(owner, "sso")
        assert payments.limit(owner, "seats") == 4
        assert not payments.has_feature(owner, "audit")
    assert len(again.captured_queries) == 0
    # What was kept is dropped on demand: the next check reads again.
    forget_entitlements(owner)
    with CaptureQueriesContext(connection) as after:
        payments.has_feature(owner, "sso")
    assert len(after.captured_queries) == 1


def test_the_request_helpers_read_once_per_request(user: Any) -> None:
    subscribe(user, {"features": ["sso"]})
    request = RequestFactory().get("/")
    request.user = fresh(user)
    template = Template(
        "{% load payments_sync %}{% has_feature 'sso' as sso %}{% has_feature 'x' as x %}"
        "{% feature_limit 'seats' 0 as seats %}{{ sso }} {{ x }} {{ seats }}"
    )
    with CaptureQueriesContext(connection) as queries:
        assert template.render(Context({"request": request})) == "True False 0"
        assert HasFeature("sso").has_permission(request, None)
        assert template.render(Context({"request": request})) == "True False 0"
    assert len(queries.captured_queries) == 1


def test_the_template_tag_for_another_owner_and_without_a_request(user: Any) -> None:
    subscribe(user, {"features": ["sso"]})
    template = Template("{% load payments_sync %}{% has_feature 'sso' owner=who as sso %}{{ sso }}")
    assert template.render(Context({"who": fresh(user)})) == "True"
    assert template.render(Context({})) == "False"


def view(request: Any) -> HttpResponse:
    return HttpResponse("inside")


def test_the_decorator_lets_in_only_owners_with_the_feature(user: Any, other_user: Any) -> None:
    subscribe(user, {"features": ["sso"]})
    gated = feature_required("sso")(view)
    request = RequestFactory().get("/")
    request.user = fresh(user)
    assert gated(request).content == b"inside"
    for who in (fresh(other_user), AnonymousUser()):
        request = RequestFactory().get("/")
        request.user = who
        with pytest.raises(PermissionDenied, match="Your plan does not include sso"):
            gated(request)
    with pytest.raises(TypeError):
        feature_required("")


@override_settings(PAYMENTS_SYNC=FREE)
def test_a_free_tier_feature_opens_the_gate_for_anyone(other_user: Any) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert feature_required("api")(view)(request).content == b"inside"


class SsoView(APIView):
    permission_classes = [IsAuthenticated, HasFeature("sso")]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class EitherView(APIView):
    permission_classes = [HasFeature("sso") | HasFeature("audit")]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


def call(view_class: Any, who: Any) -> Any:
    request = APIRequestFactory().get("/")
    from rest_framework.test import force_authenticate

    if who is not None:
        force_authenticate(request, user=who)
    return view_class.as_view()(request)


def test_the_permission_class_gates_drf_views(user: Any, other_user: Any) -> None:
    subscribe(user, {"features": ["audit"]})
    assert call(SsoView, fresh(user)).status_code == 403
    assert call(SsoView, fresh(user)).data["detail"] == "Your plan does not include sso."
    assert call(EitherView, fresh(user)).status_code == 200
    assert call(EitherView, fresh(other_user)).status_code == 403
    assert call(SsoView, None).status_code == 403
    subscribe(user, {"features": ["sso"]})
    assert call(SsoView, fresh(user)).status_code == 200
    assert repr(HasFeature("sso")) == "HasFeature('sso')"
    with pytest.raises(TypeError):
        HasFeature("")


def test_get_entitlements_answers_for_the_requester(
    api: APIClient, other_api: APIClient, user: Any
) -> None:
    subscription = subscribe(user, {"features": ["sso", "audit"], "seats": "10"})
    subscribe(UserFactory(), {"features": ["other"]})
    with CaptureQueriesContext(connection) as queries:
        answer = api.get(ENTITLEMENTS_URL)
    assert answer.status_code == 200
    assert answer.json() == {
        "features": ["audit", "sso"],
        "limits": {"seats": 10},
        "plans": [subscription.pricing.product_id],
        "free_tier": False,
    }
    entitlement_queries = [q for q in queries.captured_queries if "subscription" in q["sql"]]
    assert len(entitlement_queries) == 1
    assert other_api.get(ENTITLEMENTS_URL).json()["free_tier"] is True
    assert APIClient().get(ENTITLEMENTS_URL).status_code == 403
