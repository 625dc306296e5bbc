"""Pages of the demo site: server-rendered, with a little JavaScript calling the library's API."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from accounts.teams import team_of
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from demo_site.countries import COUNTRY_CHOICES
from demo_site.money import ONE_OFF_NAME, SSO_FEATURE, USAGE_METER, offered
from django_payments_sync.access import feature_required
from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.interactor import payments
from django_payments_sync.interactor.usage import send_usage
from django_payments_sync.models import (
    Customer,
    Invoice,
    Order,
    Subscription,
    WebhookEvent,
    get_pricing_model,
)

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
        # What the provider offers of the money features (the pages hide the rest), and the
        # feature the nav's single sign-on link asks for.
        "offers": offered(),
        "sso_feature": SSO_FEATURE,
    }


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("account")
    return render(request, "demo_site/home.html")


def one_off_pricing() -> Any:
    """The one-time price of the demo's one-off item, if seeded."""
    return (
        get_pricing_model()
        ._default_manager.filter(product__name=ONE_OFF_NAME, interval="", active=True)
        .select_related("product")
        .first()
    )


@ensure_csrf_cookie
def pricing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "demo_site/pricing.html",
        {
            "checkout_canceled": request.GET.get("checkout") == "canceled",
            "one_off": one_off_pricing(),
        },
    )


@login_required
@require_POST
def buy_one_off(request: HttpRequest) -> HttpResponse:
    """The one-off item through the library's one-off charge checkout (the amount comes from
    the seeded price, never from the form)."""
    pricing = one_off_pricing()
    if pricing is None:
        messages.error(request, "Nothing to buy: run `manage.py seed_demo`.")
        return redirect("pricing")
    team = team_of(cast("AbstractBaseUser", request.user))
    try:
        session = payments.create_charge_checkout(
            payments.get_customer(team),
            pricing=pricing,
            request=request,
            success_url=request.build_absolute_uri(reverse("account") + "?purchase=done"),
        )
    except PaymentsSyncError as exc:
        messages.error(request, f"The checkout could not start: {exc}")
        return redirect("pricing")
    return redirect(session["url"])


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
    orders = (
        Order.objects.filter(customer=customer)
        .exclude(status="pending")
        .select_related("pricing__product", "promotion_code")
        .order_by("-pk")
        if customer
        else Order.objects.none()
    )
    # What the team used so far this period, from the local outbox (no provider call).
    usage = payments.usage_so_far(customer) if customer and offered()["meters"] else []
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
            "orders": orders,
            "usage": usage,
            "purchase_done": request.GET.get("purchase") == "done",
            "events": events,
        },
    )


@login_required
@require_POST
def record_api_call(request: HttpRequest) -> HttpResponse:
    """One "API call" on the usage meter: ``record_usage`` writes it to the outbox; the demo
    has no task worker (``USAGE["ENQUEUE"]`` is off), so it sends the outbox right away."""
    if not offered()["meters"]:
        messages.error(request, "This provider has no usage meters.")
        return redirect("account")
    team = team_of(cast("AbstractBaseUser", request.user))
    try:
        payments.record_usage(team, USAGE_METER, 1)
        report = send_usage()
    except PaymentsSyncError as exc:
        messages.error(request, f"The API call was not recorded: {exc}")
    else:
        note = f" (not sent yet: {report.error})" if report.error else ""
        messages.success(request, f"One API call recorded{note}.")
    return redirect(reverse("account") + "#usage-heading")


@login_required
@feature_required(SSO_FEATURE)
def sso(request: HttpRequest) -> HttpResponse:
    """Only for teams whose plan has single sign-on (Business); anyone else gets the 403 page."""
    return render(
        request, "demo_site/sso.html", {"team": team_of(cast("AbstractBaseUser", request.user))}
    )
