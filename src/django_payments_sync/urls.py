"""URLconf of django-payments-sync; hosts include it under ``api/payment/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "payments_sync"

urlpatterns: list[URLPattern | URLResolver] = []
