"""URLconf of django-payments-sync; hosts include it under ``api/payment/``.

Two route modules, as the design names them: :mod:`~django_payments_sync.stripe_router` (the
provider's webhooks) and :mod:`~django_payments_sync.billing_router` (the REST API).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from django_payments_sync import billing_router, stripe_router

app_name = "payments_sync"

urlpatterns: list[URLPattern | URLResolver] = [
    *stripe_router.urlpatterns,
    *billing_router.urlpatterns,
]
