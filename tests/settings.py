"""Settings of the test project: SQLite by default, PostgreSQL or MySQL/MariaDB when asked for."""

from __future__ import annotations

import importlib.util
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
if importlib.util.find_spec("django_tasks_db"):
    # The tasks framework's database backend, for the worker tests (tests/workers).
    if not importlib.util.find_spec("django.tasks"):
        INSTALLED_APPS.append("django_tasks")
    INSTALLED_APPS.append("django_tasks_db")

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
    """A Django DATABASES entry from ``postgresql://user:password@host:port/name`` or
    ``mysql://user:password@host:port/name`` (MySQL or MariaDB)."""
    url = urlparse(dsn)
    if url.scheme in ("postgres", "postgresql"):
        engine, default_name, options = "django.db.backends.postgresql", "postgres", {}
    elif url.scheme in ("mysql", "mariadb"):
        # utf8mb4: MySQL's "utf8" is three bytes a character and cannot store every string.
        # The isolation level is Django's default for MySQL, said here so that it is seen.
        engine, default_name = "django.db.backends.mysql", "test"
        options = {"charset": "utf8mb4", "isolation_level": "read committed"}
    else:
        raise ValueError(f"A test database DSN must be postgresql:// or mysql://, not {dsn!r}")
    return {
        "ENGINE": engine,
        "NAME": unquote(url.path.lstrip("/")) or default_name,
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
        "OPTIONS": options,
        # pytest-django adds the xdist worker's suffix to this name; a second checkout on the
        # same server sets PAYMENTS_SYNC_TEST_DB_NAME so that the two runs do not share it.
        "TEST": {"NAME": os.environ.get("PAYMENTS_SYNC_TEST_DB_NAME", "test_payments_sync")},
    }


POSTGRES_DSN = os.environ.get("PAYMENTS_SYNC_TEST_POSTGRES", "")
MYSQL_DSN = os.environ.get("PAYMENTS_SYNC_TEST_MYSQL", "")
#: "sqlite" (default), "postgres" or "mysql" (MySQL or MariaDB): which database the suite runs on.
TEST_DATABASE = os.environ.get("PAYMENTS_SYNC_TEST_DATABASE", "sqlite")

if TEST_DATABASE == "postgres":
    if not POSTGRES_DSN:
        raise RuntimeError("PAYMENTS_SYNC_TEST_DATABASE=postgres needs PAYMENTS_SYNC_TEST_POSTGRES")
    DATABASES = {"default": database_from_dsn(POSTGRES_DSN)}
elif TEST_DATABASE == "mysql":
    if not MYSQL_DSN:
        raise RuntimeError("PAYMENTS_SYNC_TEST_DATABASE=mysql needs PAYMENTS_SYNC_TEST_MYSQL")
    DATABASES = {"default": database_from_dsn(MYSQL_DSN)}
elif TEST_DATABASE == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PAYMENTS_SYNC_TEST_SQLITE", ":memory:"),
            "TEST": {"NAME": os.environ.get("PAYMENTS_SYNC_TEST_SQLITE") or None},
        }
    }
else:
    raise RuntimeError(
        f"PAYMENTS_SYNC_TEST_DATABASE must be sqlite, postgres or mysql, not {TEST_DATABASE!r}"
    )

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # No DEFAULT_SCHEMA_CLASS: the library's views carry drf-spectacular's schema themselves,
    # so /api/payment/schema/ works with DRF's default, as a host has it.
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
    # Nor the EU's VIES service: tests that check VAT numbers use the local responder.
    "VIES": {"ADDRESS": "http://127.0.0.1:9/vies", "TIMEOUT": 2.0},
}
