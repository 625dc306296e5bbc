"""The webhook routes (the design's ``stripe_router``): one per provider, under ``<provider>/``.

The Stripe endpoint is ``stripe/webhook/`` (``reverse("payments_sync:stripe-webhook")``).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from django_payments_sync.webhooks.views import StripeWebhookView

urlpatterns: list[URLPattern | URLResolver] = [
    path("stripe/webhook/", StripeWebhookView.as_view(), name="stripe-webhook"),
]
