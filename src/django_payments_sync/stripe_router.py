"""The webhook routes (the design's ``stripe_router``): one per provider, ``<provider>/webhook/``.

The Stripe endpoint is ``stripe/webhook/`` (``reverse("payments_sync:stripe-webhook")``), the
Paddle one ``paddle/webhook/`` (``reverse("payments_sync:paddle-webhook")``); any backend's is
``reverse("payments_sync:webhook", kwargs={"provider": backend.provider_name})``. Each answers
404 unless its provider's backend is the configured one.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from django_payments_sync.webhooks.views import PaddleWebhookView, StripeWebhookView, WebhookView

urlpatterns: list[URLPattern | URLResolver] = [
    path("stripe/webhook/", StripeWebhookView.as_view(), name="stripe-webhook"),
    path("paddle/webhook/", PaddleWebhookView.as_view(), name="paddle-webhook"),
    path("<slug:provider>/webhook/", WebhookView.as_view(), name="webhook"),
]
