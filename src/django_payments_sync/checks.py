"""System checks (``payments_sync.E0xx``/``W0xx``): each misconfiguration is named with its fix."""

from __future__ import annotations

from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from django_payments_sync.conf import (
    DEFAULTS,
    PRICING_MODEL_SETTING,
    PRODUCT_MODEL_SETTING,
    payments_settings,
)
from django_payments_sync.countries import is_country_code

#: Allowed values of the settings that take one of a few strings.
CHOICES: dict[str, tuple[str, ...]] = {
    "WEBHOOK_PROCESSING": ("sync", "task"),
    "WEBHOOK_LOCK_SCOPE": ("customer", "global"),
}


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        user = payments_settings.user_settings
    except Exception as exc:
        return [Error(str(exc), id="payments_sync.E001")]
    messages: list[CheckMessage] = []
    unknown = payments_settings.unknown_keys()
    if unknown:
        messages.append(
            Error(
                f"Unknown key(s) in settings.PAYMENTS_SYNC: {', '.join(unknown)}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="payments_sync.E001",
            )
        )
        return messages
    for key, allowed in CHOICES.items():
        value = user.get(key, DEFAULTS[key])
        if value not in allowed:
            messages.append(
                Error(
                    f"PAYMENTS_SYNC[{key!r}] is {value!r}.",
                    hint=f"Use one of: {', '.join(map(repr, allowed))}.",
                    id="payments_sync.E006",
                )
            )
    seller = user.get("SELLER_COUNTRY")
    if seller is not None and not is_country_code(seller):
        messages.append(
            Error(
                f"PAYMENTS_SYNC['SELLER_COUNTRY'] is {seller!r}, not an ISO 3166-1 alpha-2 code.",
                hint="Use an upper-case two-letter code, e.g. 'DE'.",
                id="payments_sync.E005",
            )
        )
    messages += _check_backend()
    messages += _check_adapter()
    return messages


def _check_backend() -> list[CheckMessage]:
    from django_payments_sync.backends import get_backend_class

    try:
        backend_class = get_backend_class()
    except Exception as exc:
        return [
            Error(
                str(exc),
                hint="Set PAYMENTS_SYNC['BACKEND'] to the dotted path of a backend class.",
                id="payments_sync.E002",
            )
        ]
    return backend_class.check_options(payments_settings.OPTIONS)


def _check_adapter() -> list[CheckMessage]:
    path = payments_settings.ADAPTER
    try:
        import_string(path)
    except ImportError as exc:
        return [
            Error(
                f"PAYMENTS_SYNC['ADAPTER'] = {path!r} could not be imported: {exc}",
                id="payments_sync.E007",
            )
        ]
    return []


@register(Tags.models)
def check_swapped_models(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from django_payments_sync.models.catalog import AbstractPricing, AbstractProduct

    messages: list[CheckMessage] = []
    for setting, base in (
        (PRODUCT_MODEL_SETTING, AbstractProduct),
        (PRICING_MODEL_SETTING, AbstractPricing),
    ):
        label = getattr(settings, setting, None)
        if label is None:
            continue
        try:
            model = django_apps.get_model(label)
        except (ValueError, LookupError):
            messages.append(
                Error(
                    f"{setting} = {label!r} does not name an installed model.",
                    hint="Use 'app_label.ModelName' of an installed app.",
                    id="payments_sync.E008",
                )
            )
            continue
        if not issubclass(model, base):
            messages.append(
                Error(
                    f"{setting} = {label!r} does not subclass "
                    f"django_payments_sync.models.{base.__name__}.",
                    hint=f"Make {model.__name__} inherit from {base.__name__}.",
                    id="payments_sync.E009",
                )
            )
    return messages
