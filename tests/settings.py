"""Settings of the test project: SQLite by default, PostgreSQL when asked for."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# pytest-django's live_server serves static files under it (and fails without one).
STATIC_URL = "/static/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "django_payments_sync",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def database_from_dsn(dsn: str) -> dict[str, object]:
    """A Django DATABASES entry from ``postgresql://user:password@host:port/name``."""
    url = urlparse(dsn)
    if url.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"PAYMENTS_SYNC_TEST_POSTGRES must be a postgresql:// DSN, not {dsn!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(url.path.lstrip("/")) or "postgres",
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
        # pytest-django adds the xdist worker's suffix to this name.
        "TEST": {"NAME": "test_payments_sync"},
    }


POSTGRES_DSN = os.environ.get("PAYMENTS_SYNC_TEST_POSTGRES", "")
#: "sqlite" (default) or "postgres": which database the suite runs on.
TEST_DATABASE = os.environ.get("PAYMENTS_SYNC_TEST_DATABASE", "sqlite")

if TEST_DATABASE == "postgres":
    if not POSTGRES_DSN:
        raise RuntimeError("PAYMENTS_SYNC_TEST_DATABASE=postgres needs PAYMENTS_SYNC_TEST_POSTGRES")
    DATABASES = {"default": database_from_dsn(POSTGRES_DSN)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PAYMENTS_SYNC_TEST_SQLITE", ":memory:"),
            "TEST": {"NAME": os.environ.get("PAYMENTS_SYNC_TEST_SQLITE") or None},
        }
    }

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The OpenAPI schema at /api/payment/schema/ (the "schema" extra) needs drf-spectacular's.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

PAYMENTS_SYNC = {
    "BACKEND": "django_payments_sync.backends.stripe.StripeBackend",
    "OPTIONS": {
        "api_key": "sk_test_payments_sync_tests",
        "webhook_secret": "whsec_payments_sync_tests",
        # Nothing in the suite may reach api.stripe.com: a test that needs Stripe points the
        # backend at the emulator; anything else that calls out fails at once, on loopback.
        "api_base": "http://127.0.0.1:9",
        "max_network_retries": 0,
    },
    "SELLER_COUNTRY": "DE",
}
