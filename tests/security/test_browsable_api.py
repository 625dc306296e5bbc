"""Every library view renders in DRF's browsable API (a browser's ``Accept: text/html``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from rest_framework.test import APIClient

from django_payments_sync.models import BillingInformation, Customer
from tests.factories import OrderFactory, PricingFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

PREFIX = "/api/payment/"


def library_routes() -> list[tuple[str, Any]]:
    """(route, view class) of each route of ``django_payments_sync.urls``."""
    from django_payments_sync import urls

    routes = []
    for pattern in urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert not isinstance(pattern, URLResolver)
        assert isinstance(pattern.pattern, RoutePattern)
        routes.append((str(pattern.pattern), pattern.callback.view_class))  # type: ignore[attr-defined]
    return routes


def get_routes() -> list[str]:
    return [
        route
        for route, view in library_routes()
        if "get" in view.http_method_names and hasattr(view, "get")
    ]


def test_the_test_covers_the_library_routes() -> None:
    assert "plans/" in get_routes()
    assert "subscriptions/<int:pk>/" in get_routes()
    assert get_resolver().resolve(f"{PREFIX}plans/")


@pytest.mark.parametrize("route", get_routes())
def test_every_get_route_renders_as_html(locmem: Any, user: Any, route: str) -> None:
    customer = Customer.objects.get_or_create(owner=user, defaults={"email": user.email})[0]
    BillingInformation.objects.create(
        customer=customer, name="Alice", email=user.email, country="FR"
    )
    pricing = PricingFactory(amount=1500, interval="month")
    subscription = SubscriptionFactory(customer=customer, pricing=pricing, status="active")
    OrderFactory(customer=customer, pricing=pricing)
    client = APIClient()
    client.force_login(user)
    path = PREFIX + route.replace("<int:pk>", str(subscription.pk))
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code < 500, response.content[:2000]
    if route != "schema/":  # the OpenAPI document, in its own formats
        assert response["Content-Type"].startswith("text/html")


def test_the_plans_render_as_html_without_login(locmem: Any) -> None:
    PricingFactory(amount=1500, interval="month")
    response = APIClient().get(f"{PREFIX}plans/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200, response.content[:2000]
    assert b"Plans" in response.content


@pytest.mark.parametrize("logged_in", [True, False], ids=["logged-in", "anonymous"])
@pytest.mark.parametrize("route", [route for route, _view in library_routes()])
def test_every_route_answers_a_browser_without_a_server_error(
    locmem: Any, user: Any, route: str, logged_in: bool
) -> None:
    # POST-only routes answer 405, protected ones 403, in the browsable API's page.
    client = APIClient()
    if logged_in:
        client.force_login(user)
    response = client.get(PREFIX + route.replace("<int:pk>", "1"), HTTP_ACCEPT="text/html")
    assert response.status_code < 500, response.content[:2000]
