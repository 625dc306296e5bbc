"""URLconf of django-payments-sync; hosts include it under ``api/payment/``.

Each area of the API adds its routes in its own section below.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "payments_sync"

urlpatterns: list[URLPattern | URLResolver] = []

# --- webhooks (provider endpoints) -------------------------------------------------------

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

# --- OpenAPI schema (with the "schema" extra) --------------------------------------------
