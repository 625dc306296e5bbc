"""Settings of the example project, read from environment variables (SQLite by default)."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """A boolean environment variable: 1/true/yes/on are true, anything else set is false."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("DEBUG", True)
# The fallback key only exists so the demo starts with no set-up; any real deployment sets one.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-example-project-demo-only"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"] + [
    host for host in os.environ.get("ALLOWED_HOSTS", "").split(",") if host
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_payments_sync",
    "accounts",
    "demo_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "demo_site.views.demo_context",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DATABASE_PATH") or str(BASE_DIR / "db.sqlite3"),
        # Webhook deliveries and page requests write at the same time. IMMEDIATE transactions
        # take the write lock up front, so a transaction waits (up to the timeout) instead of
        # failing with "database is locked" when it upgrades from reading to writing; WAL lets
        # pages read while a webhook writes.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "pricing"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# --- django-payments-sync ----------------------------------------------------------------
# The customer owner is a team, not a user: everything a team buys is shared by its members.
PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL = "accounts.Team"

#: The Stripe emulator accepts any key that looks like a test key; real Stripe needs yours.
STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY") or "sk_test_example_project_emulator"
#: Where the Stripe API is: empty for real Stripe, the emulator's URL for the offline demo.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
#: Where VIES is: empty for the real service, the local stand-in's URL for the offline demo.
VIES_ADDRESS = os.environ.get("VIES_ADDRESS") or None

_vies: dict[str, object] = {}
if VIES_ADDRESS:
    _vies["ADDRESS"] = VIES_ADDRESS
# The seller's own VAT number: with it VIES issues a consultation number for every check, the
# seller's proof that it checked. It must be real for the real VIES (set it, or leave it empty).
if os.environ.get("VIES_REQUESTER_VAT_NUMBER"):
    _vies["REQUESTER_VAT_NUMBER"] = os.environ["VIES_REQUESTER_VAT_NUMBER"]

#: Which provider the demo bills through: "stripe" (the default) or "paddle" (Paddle Billing,
#: the ``[paddle]`` extra). ``scripts/demo --provider paddle`` sets it.
DEMO_PROVIDER = (os.environ.get("DEMO_PROVIDER") or "stripe").strip().lower()
#: The Paddle emulator accepts its own key (``pdl_sdbx_apikey_emulator``); Paddle's sandbox yours.
PADDLE_API_KEY = os.environ.get("PADDLE_API_KEY") or "pdl_sdbx_apikey_emulator"
#: Where the Paddle API is: empty for Paddle's sandbox, the emulator's URL for the offline demo.
PADDLE_API_BASE = os.environ.get("PADDLE_API_BASE") or None
#: A client-side token (Paddle > Developer tools > Authentication, ``test_...``): with Paddle's
#: sandbox, the checkout success page loads Paddle.js, which opens the checkout of its ``_ptxn``.
PADDLE_CLIENT_TOKEN = os.environ.get("PADDLE_CLIENT_TOKEN") or ""

if DEMO_PROVIDER == "stripe":
    _backend = "django_payments_sync.backends.stripe.StripeBackend"
    _options: dict[str, object] = {
        "api_key": STRIPE_API_KEY,
        "webhook_secret": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        "api_base": STRIPE_API_BASE,
    }
elif DEMO_PROVIDER == "paddle":
    _backend = "django_payments_sync.backends.paddle.PaddleBackend"
    _options = {
        "api_key": PADDLE_API_KEY,
        "environment": "sandbox",
        "webhook_secret": os.environ.get("PADDLE_WEBHOOK_SECRET") or None,
        "api_base": PADDLE_API_BASE,
    }
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"DEMO_PROVIDER must be 'stripe' or 'paddle', not {DEMO_PROVIDER!r}."
    )
#: The API the demo's provider is reached at: an emulator's URL, or None for the real one.
PROVIDER_API_BASE = STRIPE_API_BASE if DEMO_PROVIDER == "stripe" else PADDLE_API_BASE

PAYMENTS_SYNC = {
    "BACKEND": _backend,
    "OPTIONS": _options,
    "ADAPTER": "accounts.adapter.TeamAdapter",
    "SELLER_COUNTRY": os.environ.get("SELLER_COUNTRY") or "DE",
    "CHECKOUT_SUCCESS_URL": "/checkout/success/",
    "CHECKOUT_CANCEL_URL": "/pricing/?checkout=canceled",
    "PORTAL_RETURN_URL": "/account/",
    # The demo shows its plans right after `seed_demo`: no stale cache.
    "PLANS_CACHE_TIMEOUT": 0,
    "VIES": _vies,
    # The demo runs no task worker: usage is sent right after it is recorded, by the demo's
    # own page (demo_site.views.record_api_call), instead of by the send_usage_events task.
    "USAGE": {"ENQUEUE": False},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_payments_sync": {"handlers": ["console"], "level": "INFO"},
    },
}
