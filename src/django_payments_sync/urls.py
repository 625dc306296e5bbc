"""URLconf of django-payments-sync; hosts include it under ``api/payment/``.

Each area of the API adds its routes in its own section below.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "payments_sync"

urlpatterns: list[URLPattern | URLResolver] = []

# --- webhooks (provider endpoints) -------------------------------------------------------
from django.urls import path  # noqa: E402

from django_payments_sync.webhooks.views import StripeWebhookView  # noqa: E402

urlpatterns += [
    path("stripe/webhook/", StripeWebhookView.as_view(), name="stripe-webhook"),
]

# --- billing information, VAT validation, portal -----------------------------------------
from django.urls import path  # noqa: E402

from django_payments_sync.api import billing_views  # noqa: E402

urlpatterns += [
    path("billing/", billing_views.BillingInformationView.as_view(), name="billing"),
    path(
        "billing/validate-vat/",
        billing_views.VatNumberCheckView.as_view(),
        name="billing-validate-vat",
    ),
    path("billing/portal/", billing_views.PortalLinkView.as_view(), name="billing-portal"),
]

# --- plans, checkout, subscriptions, orders ----------------------------------------------
from django.urls import path  # noqa: E402

from django_payments_sync.api import checkout as checkout_views  # noqa: E402
from django_payments_sync.api import plans as plans_views  # noqa: E402
from django_payments_sync.api import subscriptions as subscription_views  # noqa: E402

urlpatterns += [
    path("plans/", plans_views.PlansView.as_view(), name="plans"),
    path("checkout/", checkout_views.CheckoutView.as_view(), name="checkout"),
    path("orders/", checkout_views.OrderListView.as_view(), name="orders"),
    path("orders/<int:pk>/cancel/", checkout_views.OrderCancelView.as_view(), name="order-cancel"),
    path(
        "subscriptions/",
        subscription_views.SubscriptionListView.as_view(),
        name="subscriptions",
    ),
    path(
        "subscriptions/<int:pk>/",
        subscription_views.SubscriptionDetailView.as_view(),
        name="subscription-detail",
    ),
]

# --- OpenAPI schema (drf-spectacular's with the "schema" extra; else a 501 that says so) -----
from django_payments_sync.api.schema import schema_view  # noqa: E402

urlpatterns += [path("schema/", schema_view(), name="schema")]
