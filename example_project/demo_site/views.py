"""Pages of the demo site: server-rendered, with a little JavaScript calling the library's API."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from accounts.teams import team_of
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from demo_site.countries import COUNTRY_CHOICES
from django_payments_sync.interactor import payments
from django_payments_sync.models import Customer, Invoice, Subscription, WebhookEvent

if TYPE_CHECKING:
    from accounts.models import Team
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest, HttpResponse


logger = logging.getLogger(__name__)


def demo_context(request: HttpRequest) -> dict[str, Any]:
    """Template context of every page: which provider the demo talks to."""
    api_base = settings.PROVIDER_API_BASE
    if settings.DEMO_PROVIDER == "paddle":
        label = f"Paddle emulator at {api_base}" if api_base else "Paddle (sandbox)"
    else:
        label = f"Stripe emulator at {api_base}" if api_base else "Stripe (test mode)"
    # Paddle's own checkout opens in Paddle.js on the page its link points to (our success page).
    paddle_js = settings.DEMO_PROVIDER == "paddle" and not api_base
    return {
        "provider_label": label,
        "uses_emulator": bool(api_base),
        "paddle_client_token": settings.PADDLE_CLIENT_TOKEN if paddle_js else "",
    }


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("account")
    return render(request, "demo_site/home.html")


@ensure_csrf_cookie
def pricing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "demo_site/pricing.html",
        {"checkout_canceled": request.GET.get("checkout") == "canceled"},
    )


@login_required
@ensure_csrf_cookie
def billing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "demo_site/billing.html",
        {"countries": COUNTRY_CHOICES, "seller_country": settings.PAYMENTS_SYNC["SELLER_COUNTRY"]},
    )


@login_required
@ensure_csrf_cookie
def checkout_success(request: HttpRequest) -> HttpResponse:
    return render(request, "demo_site/checkout_success.html")


def customer_of(team: Team) -> Customer | None:
    return Customer.objects.filter(owner=team).first()


@login_required
@ensure_csrf_cookie
def account(request: HttpRequest) -> HttpResponse:
    team = team_of(cast("AbstractBaseUser", request.user))  # login_required: never anonymous
    customer = customer_of(team)
    # With their open invoices (what the customer still has to pay or confirm) and the
    # invoices the provider's webhooks recorded, newest first.
    subscriptions = (
        payments.subscriptions.list_for(customer) if customer else Subscription.objects.none()
    )
    invoices = (
        Invoice.objects.filter(customer=customer).exclude(status="draft")
        if customer
        else Invoice.objects.none()
    )
    events = WebhookEvent.objects.order_by("-pk")[:10] if request.user.is_staff else []
    return render(
        request,
        "demo_site/account.html",
        {
            "team": team,
            "customer": customer,
            "billing_information": getattr(customer, "billing_information", None)
            if customer
            else None,
            "subscriptions": subscriptions,
            "invoices": invoices,
            "events": events,
        },
    )
