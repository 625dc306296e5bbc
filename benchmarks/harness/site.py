"""Settings every benchmark site shares: what `django-admin startproject` gives, on PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

from .pg import django_database

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

CONTRIB_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]


def base_settings(root_urlconf: str, apps: list[str]) -> dict[str, Any]:
    """startproject's settings with ``apps`` added, the database from BENCH_DATABASE_URL."""
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/bench_unset")
    return {
        "SECRET_KEY": "benchmark-only-not-secret",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "INSTALLED_APPS": [*CONTRIB_APPS, *apps],
        "MIDDLEWARE": list(MIDDLEWARE),
        "ROOT_URLCONF": root_urlconf,
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "DATABASES": {"default": django_database(url)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "static/",
        # No SMTP server on the benchmark machine: mail is built and kept in memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # Nothing logged per request: gunicorn's stderr is a file nobody reads during the run.
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler", "level": "WARNING"}},
            "root": {"handlers": ["console"], "level": "WARNING"},
        },
    }
