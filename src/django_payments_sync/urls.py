"""URLconf of django-payments-sync; hosts include it under ``api/payment/``.

Each area of the API adds its routes in its own section below.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "payments_sync"

urlpatterns: list[URLPattern | URLResolver] = []

# --- webhooks (provider endpoints) -------------------------------------------------------

# --- billing information, VAT validation, portal -----------------------------------------

# --- plans, checkout, subscriptions, orders ----------------------------------------------

# --- OpenAPI schema (with the "schema" extra) --------------------------------------------
