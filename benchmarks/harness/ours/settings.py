"""Settings of the django-payments-sync benchmark site: startproject's defaults plus the library."""

import importlib.util
import os

from benchmarks.harness.site import base_settings

# The tasks framework's database backend (docs/deployment.md), for the task-mode runs: its
# tables are in every copy of the database, its worker is `manage.py db_worker`.
_TASK_APPS = ["django_tasks", "django_tasks_db"]
if importlib.util.find_spec("django.tasks"):
    _TASK_APPS = ["django_tasks_db"]

globals().update(
    base_settings(
        "benchmarks.harness.ours.urls", ["rest_framework", "django_payments_sync", *_TASK_APPS]
    )
)
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

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
    # "sync" (the default), "task": stored and enqueued, applied by db_worker processes, or
    # "celery": stored and sent to RabbitMQ, applied by `celery worker` processes.
    "WEBHOOK_PROCESSING": os.environ.get("BENCH_PROCESSING", "sync"),
}
if PAYMENTS_SYNC["WEBHOOK_PROCESSING"] == "celery":
    # As a host project's proj/__init__.py does: the Celery app is loaded with the settings.
    from benchmarks.harness.ours.celery_app import app as celery_app  # noqa: F401
