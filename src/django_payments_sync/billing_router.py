"""The REST API's routes (the design's ``billing_router``): billing data, VAT validation, the
portal link, plans, checkout, orders, subscriptions, invoices and the OpenAPI schema."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from django_payments_sync.api import billing_views
from django_payments_sync.api import checkout as checkout_views
from django_payments_sync.api import discounts as discount_views
from django_payments_sync.api import entitlements as entitlement_views
from django_payments_sync.api import invoices as invoice_views
from django_payments_sync.api import lifecycle as lifecycle_views
from django_payments_sync.api import plans as plans_views
from django_payments_sync.api import subscriptions as subscription_views
from django_payments_sync.api import usage as usage_views
from django_payments_sync.api.schema import schema_view

urlpatterns: list[URLPattern | URLResolver] = []

# --- billing information, VAT validation, portal -----------------------------------------


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


urlpatterns += [
    path("plans/", plans_views.PlansView.as_view(), name="plans"),
    path("entitlements/", entitlement_views.EntitlementsView.as_view(), name="entitlements"),
    path("usage/", usage_views.UsageView.as_view(), name="usage"),
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
    path(
        "subscriptions/<int:pk>/discount/",
        discount_views.SubscriptionDiscountView.as_view(),
        name="subscription-discount",
    ),
    path(
        "subscriptions/<int:pk>/preview/",
        lifecycle_views.SubscriptionPreviewView.as_view(),
        name="subscription-preview",
    ),
    path(
        "subscriptions/<int:pk>/pause/",
        lifecycle_views.SubscriptionPauseView.as_view(),
        name="subscription-pause",
    ),
    path(
        "subscriptions/<int:pk>/resume/",
        lifecycle_views.SubscriptionResumeView.as_view(),
        name="subscription-resume",
    ),
]

# --- invoices -----------------------------------------------------------------------------

urlpatterns += [
    path("invoices/", invoice_views.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", invoice_views.InvoiceDetailView.as_view(), name="invoice-detail"),
]

# --- OpenAPI schema (drf-spectacular's with the "schema" extra; else a 501 that says so) -----

urlpatterns += [path("schema/", schema_view(), name="schema")]
