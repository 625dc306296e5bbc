"""Django app configuration of django-payments-sync."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from django_payments_sync.conf import install_model_setting_defaults


class PaymentsSyncConfig(AppConfig):
    name = "django_payments_sync"
    label = "django_payments_sync"
    verbose_name = _("Payments sync")
    default_auto_field = "django.db.models.BigAutoField"

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        # Before any model is imported: migrations read these settings like AUTH_USER_MODEL.
        install_model_setting_defaults()

    def ready(self) -> None:
        # Registers the system checks and the signal receivers.
        from django_payments_sync import checks, receivers  # noqa: F401
