"""System checks (``payments_sync.E0xx``/``W0xx``): each misconfiguration is named with its fix.

docs/settings.md lists every id (a test checks it): E001 unknown key, E002 unknown backend
option, E003 Stripe API key, E005 seller country, E006 value outside its choices, E007 adapter,
E008/E009 swapped models, E010 wrong type, E011 out of range, E012 backend class, E013
``rest_framework`` not installed, E014 Paddle API key or environment; W001 webhook secret, W002
schema route without drf-spectacular.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from django_payments_sync.api.schema import spectacular_installed
from django_payments_sync.conf import (
    DEFAULTS,
    EXPECTED,
    NESTED_KEYS,
    PRICING_MODEL_SETTING,
    PRODUCT_MODEL_SETTING,
    payments_settings,
    setting_label,
)
from django_payments_sync.countries import is_country_code


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
    messages += _check_values(user)
    if messages:
        # The checks below read the settings, which values of the wrong type may break.
        return messages
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


def _configured_values(user: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(key, value)`` of each key the host set, nested ones as ``"VIES.TIMEOUT"``."""
    values: list[tuple[str, Any]] = []
    for key, value in user.items():
        values.append((key, value))
        if key in NESTED_KEYS and isinstance(value, dict):
            values += [(f"{key}.{sub}", sub_value) for sub, sub_value in value.items()]
    return values


def _check_values(user: dict[str, Any]) -> list[CheckMessage]:
    """Each configured value against :data:`~django_payments_sync.conf.EXPECTED`: E010 for a
    wrong type, E006 for a value outside the choices, E011 for one out of range."""
    messages: list[CheckMessage] = []
    for key, value in _configured_values(user):
        expected = EXPECTED.get(key)
        if expected is None:
            continue
        label = setting_label(key)
        default: Any = DEFAULTS
        for part in key.split("."):
            default = default[part]
        hint = f"Set it to {expected.describe()} (default: {default!r})."
        if not expected.type_ok(value):
            messages.append(
                Error(
                    f"{label} is {value!r} ({type(value).__name__}), not {expected.describe()}.",
                    hint=hint,
                    id="payments_sync.E010",
                )
            )
        elif not expected.value_ok(value):
            messages.append(
                Error(
                    f"{label} is {value!r}, not {expected.describe()}.",
                    hint=hint,
                    id="payments_sync.E006" if expected.choices else "payments_sync.E011",
                )
            )
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
                id="payments_sync.E012",
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


@register(Tags.compatibility)
def check_installed_apps(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if django_apps.is_installed("rest_framework"):
        return []
    return [
        Error(
            "'rest_framework' is not in INSTALLED_APPS: the API's views and the browsable "
            "API's templates need Django REST framework installed as an app.",
            hint="Add 'rest_framework' to INSTALLED_APPS.",
            id="payments_sync.E013",
        )
    ]


@register(Tags.urls)
def check_api(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if spectacular_installed() or not _schema_route_included():
        return []
    return [
        Warning(
            "The URLconf includes django_payments_sync.urls, whose schema/ route needs "
            "drf-spectacular: without it, it answers 501.",
            hint="pip install 'django-payments-sync[schema]', or add "
            "'payments_sync.W002' to SILENCED_SYSTEM_CHECKS if you serve no OpenAPI schema.",
            id="payments_sync.W002",
        )
    ]


def _schema_route_included() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("payments_sync:schema")
    except NoReverseMatch:
        return False
    except Exception:  # a URLconf that does not import is Django's own check
        return False
    return True
