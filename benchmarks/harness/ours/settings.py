"""Settings of the django-payments-sync benchmark site: startproject's defaults plus the library."""

import os

from benchmarks.harness.site import base_settings

globals().update(
    base_settings("benchmarks.harness.ours.urls", ["rest_framework", "django_payments_sync"])
)

# The documented minimum (docs/installation.md): the backend's key and webhook secret, the
# seller's country; the API base points the backend at the emulator. All else is the default,
# except the lock scope, which the benchmark runs both ways.
PAYMENTS_SYNC = {
    "BACKEND": "django_payments_sync.backends.stripe.StripeBackend",
    "OPTIONS": {
        "api_key": os.environ.get("BENCH_STRIPE_KEY", "sk_test_51BenchmarkKey000000000000000000"),
        "webhook_secret": os.environ.get("BENCH_WEBHOOK_SECRET", "whsec_benchmark"),
        "api_base": os.environ.get("BENCH_STRIPE_API_BASE") or None,
    },
    "SELLER_COUNTRY": "DE",
    "WEBHOOK_LOCK_SCOPE": os.environ.get("BENCH_LOCK_SCOPE", "customer"),
}
