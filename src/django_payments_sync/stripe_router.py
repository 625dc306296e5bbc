"""The webhook routes (the design's ``stripe_router``): one per provider, ``<provider>/webhook/``.

The Stripe endpoint is ``stripe/webhook/`` (``reverse("payments_sync:stripe-webhook")``); any
backend's is ``reverse("payments_sync:webhook", kwargs={"provider": backend.provider_name})``.
A request to the route of a provider that is not the configured backend's answers 404.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from django_payments_sync.webhooks.views import StripeWebhookView, WebhookView

urlpatterns: list[URLPattern | URLResolver] = [
    path("stripe/webhook/", StripeWebhookView.as_view(), name="stripe-webhook"),
    path("<slug:provider>/webhook/", WebhookView.as_view(), name="webhook"),
]
