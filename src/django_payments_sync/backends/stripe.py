"""The Stripe backend (the default): the provider contract over ``stripe.StripeClient``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.checks import CheckMessage, Error, Warning

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.types import Capability


class StripeBackend(BaseBackend):
    provider_name = "stripe"
    display_name = "Stripe"
    capabilities = frozenset(Capability)
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "api_key": BaseBackend.REQUIRED,
        "webhook_secret": None,
        "api_base": None,
        "timeout": 30.0,
        "max_network_retries": 2,
    }

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[CheckMessage]:
        messages = super().check_options(options)
        api_key = options.get("api_key")
        if not api_key:
            messages.append(
                Error(
                    "The Stripe backend has no API key.",
                    hint="Set PAYMENTS_SYNC['OPTIONS']['api_key'] to a secret key (sk_test_... "
                    "or sk_live_...) or a restricted key (rk_...).",
                    id="payments_sync.E003",
                )
            )
        elif not isinstance(api_key, str) or not api_key.startswith(("sk_", "rk_")):
            messages.append(
                Error(
                    "PAYMENTS_SYNC['OPTIONS']['api_key'] is not a Stripe secret key.",
                    hint="Stripe secret keys start with sk_ (or rk_ for restricted keys).",
                    id="payments_sync.E003",
                )
            )
        if not options.get("webhook_secret"):
            messages.append(
                Warning(
                    "The Stripe backend has no webhook signing secret: webhooks will be refused.",
                    hint="Run `manage.py payments_sync webhook-endpoint <site URL>` and set "
                    "PAYMENTS_SYNC['OPTIONS']['webhook_secret'] to the whsec_... it prints.",
                    id="payments_sync.W001",
                )
            )
        return messages
