"""Settings of django-payments-sync: one namespaced dict, ``PAYMENTS_SYNC``, with defaults."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django_payments_sync.adapter import DefaultPaymentsAdapter

#: Every key of ``settings.PAYMENTS_SYNC`` with its default. ``docs/settings.md`` documents each
#: one, and a test checks that the two never drift apart.
DEFAULTS: dict[str, Any] = {
    # Dotted path of the provider backend class.
    "BACKEND": "django_payments_sync.backends.stripe.StripeBackend",
    # Options passed to the backend (for Stripe: api_key, webhook_secret, api_base, ...).
    "OPTIONS": {},
    # Dotted path of the adapter class: host policy in one place.
    "ADAPTER": "django_payments_sync.adapter.DefaultPaymentsAdapter",
    # ISO 3166-1 alpha-2 code of the seller's country, for the tax decision.
    "SELLER_COUNTRY": None,
    # Push local changes (customers, products, prices, subscriptions) to the provider after commit.
    "AUTO_SYNC": True,
    # "sync": apply webhook events in the request; "task": through Django's tasks framework;
    # "celery": through Celery workers (django_payments_sync.contrib.celery).
    "WEBHOOK_PROCESSING": "sync",
    # "customer": events of different customers are applied in parallel; "global": one at a time.
    "WEBHOOK_LOCK_SCOPE": "customer",
    # Largest accepted webhook body, in bytes.
    "WEBHOOK_MAX_BODY_SIZE": 512 * 1024,
    # Accepted age of a webhook signature's timestamp, in seconds.
    "WEBHOOK_TOLERANCE": 300,
    # Re-fetch each event's object from the provider before applying it (costs API calls).
    "WEBHOOK_REFETCH": False,
    # Most subscriptions a customer may have that are not canceled; None for no limit.
    "MAX_ACTIVE_SUBSCRIPTIONS": 1,
    # Proration behaviour when a subscription's price or quantity changes.
    "PRORATION_BEHAVIOR": "create_prorations",
    # Days a past_due subscription keeps its access after its first failed renewal.
    "GRACE_PERIOD_DAYS": 7,
    # Where the provider's checkout page sends the customer back to (absolute URLs or paths).
    "CHECKOUT_SUCCESS_URL": None,
    "CHECKOUT_CANCEL_URL": None,
    # Where the provider's customer portal sends the customer back to.
    "PORTAL_RETURN_URL": None,
    # Seconds the public plan catalog stays cached.
    "PLANS_CACHE_TIMEOUT": 300,
    # Let a push create a new provider customer (or product) for a row whose provider object
    # was deleted at the provider; off, the row is reported and left unlinked (deletions stick).
    "RECREATE_DELETED": False,
    # payments_sync reconcile: provider operations per second (Stripe allows 25 in test mode,
    # 100 in live mode) and rows between two checkpoints.
    "RECONCILE": {
        "RATE_LIMIT": 20.0,
        "CHECKPOINT_EVERY": 100,
    },
    # payments_sync push: provider operations per second for all its threads together (None:
    # the backend's limit for its key, for Stripe 25 with a test key and 100 with a live one)
    # and the threads pushing products at once.
    "PUSH": {
        "RATE_LIMIT": None,
        "CONCURRENCY": 8,
    },
    # The EU VAT-number check through VIES.
    "VIES": {
        "ENABLED": True,
        "ADDRESS": "https://ec.europa.eu/taxation_customs/vies/services/checkVatService",
        "TIMEOUT": 10.0,
        "REQUESTER_VAT_NUMBER": None,
        "CACHE_TTL": 24 * 60 * 60,
    },
    # Backoff of the recheck of VAT numbers VIES could not check (seconds; doubling, capped).
    "VAT_RECHECK": {
        "BASE_DELAY": 15 * 60,
        "MAX_DELAY": 24 * 60 * 60,
    },
    # Mail sent to customers.
    "MAIL": {
        "ENABLED": True,
        "FROM_EMAIL": None,
    },
    # Let customers type a promotion code on the provider's checkout page (when the checkout
    # request names none itself).
    "ALLOW_PROMOTION_CODES": False,
    # The usage outbox (record_usage): events sent per drain, and whether each record enqueues
    # the send_usage_events task (off: a scheduler runs it, or `payments_sync usage send`).
    "USAGE": {
        "BATCH_SIZE": 500,
        "ENQUEUE": True,
    },
    # What an owner on no plan gets (and every plan adds to): feature names and limits.
    "FREE_TIER": {
        "FEATURES": [],
        "LIMITS": {},
    },
    # Where has_feature reads a paying owner's features: "local" (their plans' product
    # metadata) or "provider" (the features the provider says they hold: Stripe Entitlements).
    "ENTITLEMENTS_SOURCE": "local",
}


@dataclass(frozen=True)
class Expected:
    """What one setting accepts: its types, ``None`` or not, a smallest value, a few choices."""

    types: tuple[type, ...]
    nullable: bool = False
    #: Numbers only: the smallest accepted value, and whether it is itself accepted.
    minimum: float | None = None
    minimum_included: bool = True
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """What to set, in words: "an integer, 1 or more, or None"."""
        if self.choices:
            text = "one of " + ", ".join(map(repr, self.choices))
        else:
            # An int is a number too: (int, float) reads "a number".
            kinds = [t for t in self.types if not (t is int and float in self.types)]
            text = " or ".join(_TYPE_WORDS[t] for t in kinds)
        if self.minimum is not None:
            bound = f"{self.minimum:g}"
            text += f", {bound} or more" if self.minimum_included else f", more than {bound}"
        return text + (", or None" if self.nullable else "")

    def type_ok(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        # bool is a subclass of int: True is no number of seconds.
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def value_ok(self, value: Any) -> bool:
        """Within the range and the choices (for a value whose type is right)."""
        if value is None:
            return True
        if self.choices and value not in self.choices:
            return False
        if self.minimum is not None:
            return bool(value >= self.minimum if self.minimum_included else value > self.minimum)
        return True


_TYPE_WORDS = {
    bool: "True or False",
    int: "an integer",
    float: "a number",
    str: "a string",
    dict: "a dict",
    list: "a list",
    tuple: "a tuple",
}
_SECONDS = (int, float)

#: What every key of :data:`DEFAULTS` accepts (nested keys as ``"VIES.TIMEOUT"``). The system
#: checks test each configured value against it (``payments_sync.E010`` for a wrong type,
#: ``E011`` for a value out of range, ``E006`` for one outside the choices); a test checks
#: that it covers every key and that every default passes.
EXPECTED: dict[str, Expected] = {
    "BACKEND": Expected((str,)),
    "OPTIONS": Expected((dict,)),
    "ADAPTER": Expected((str,)),
    "SELLER_COUNTRY": Expected((str,), nullable=True),
    "AUTO_SYNC": Expected((bool,)),
    "WEBHOOK_PROCESSING": Expected((str,), choices=("sync", "task", "celery")),
    "WEBHOOK_LOCK_SCOPE": Expected((str,), choices=("customer", "global")),
    "WEBHOOK_MAX_BODY_SIZE": Expected((int,), minimum=1),
    "WEBHOOK_TOLERANCE": Expected(_SECONDS, minimum=0, minimum_included=False),
    "WEBHOOK_REFETCH": Expected((bool,)),
    "MAX_ACTIVE_SUBSCRIPTIONS": Expected((int,), nullable=True, minimum=1),
    "PRORATION_BEHAVIOR": Expected((str,), choices=("create_prorations", "always_invoice", "none")),
    "GRACE_PERIOD_DAYS": Expected((int,), minimum=0),
    "CHECKOUT_SUCCESS_URL": Expected((str,), nullable=True),
    "CHECKOUT_CANCEL_URL": Expected((str,), nullable=True),
    "PORTAL_RETURN_URL": Expected((str,), nullable=True),
    "PLANS_CACHE_TIMEOUT": Expected(_SECONDS, minimum=0),
    "RECREATE_DELETED": Expected((bool,)),
    "RECONCILE": Expected((dict,)),
    "RECONCILE.RATE_LIMIT": Expected(_SECONDS, minimum=0, minimum_included=False),
    "RECONCILE.CHECKPOINT_EVERY": Expected((int,), minimum=1),
    "PUSH": Expected((dict,)),
    "PUSH.RATE_LIMIT": Expected(_SECONDS, nullable=True, minimum=0, minimum_included=False),
    "PUSH.CONCURRENCY": Expected((int,), minimum=1),
    "VIES": Expected((dict,)),
    "VIES.ENABLED": Expected((bool,)),
    "VIES.ADDRESS": Expected((str,)),
    "VIES.TIMEOUT": Expected(_SECONDS, minimum=0, minimum_included=False),
    "VIES.REQUESTER_VAT_NUMBER": Expected((str,), nullable=True),
    "VIES.CACHE_TTL": Expected(_SECONDS, minimum=0),
    "VAT_RECHECK": Expected((dict,)),
    "VAT_RECHECK.BASE_DELAY": Expected(_SECONDS, minimum=0, minimum_included=False),
    "VAT_RECHECK.MAX_DELAY": Expected(_SECONDS, minimum=0, minimum_included=False),
    "MAIL": Expected((dict,)),
    "MAIL.ENABLED": Expected((bool,)),
    "MAIL.FROM_EMAIL": Expected((str,), nullable=True),
    "ALLOW_PROMOTION_CODES": Expected((bool,)),
    "USAGE": Expected((dict,)),
    "USAGE.BATCH_SIZE": Expected((int,), minimum=1),
    "USAGE.ENQUEUE": Expected((bool,)),
    "FREE_TIER": Expected((dict,)),
    "FREE_TIER.FEATURES": Expected((list, tuple)),
    "FREE_TIER.LIMITS": Expected((dict,)),
    "ENTITLEMENTS_SOURCE": Expected((str,), choices=("local", "provider")),
}


def setting_label(key: str) -> str:
    """``"VIES.TIMEOUT"`` as the host writes it: ``PAYMENTS_SYNC['VIES']['TIMEOUT']``."""
    return "PAYMENTS_SYNC" + "".join(f"[{part!r}]" for part in key.split("."))


#: Keys whose value is a dict merged key by key over its default.
NESTED_KEYS = frozenset(k for k, v in DEFAULTS.items() if isinstance(v, dict) and k != "OPTIONS")

#: Top-level settings (outside the dict) that name models, the way ``AUTH_USER_MODEL`` does.
PRODUCT_MODEL_SETTING = "PAYMENTS_SYNC_PRODUCT_MODEL"
PRICING_MODEL_SETTING = "PAYMENTS_SYNC_PRICING_MODEL"
CUSTOMER_OWNER_MODEL_SETTING = "PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL"


def install_model_setting_defaults() -> None:
    """Give the model-naming settings their defaults on ``django.conf.settings``.

    Migrations (ours and hosts' that point at our swappable models) read
    ``settings.PAYMENTS_SYNC_PRODUCT_MODEL`` the way they read ``settings.AUTH_USER_MODEL``,
    so the attribute must exist even when the host leaves it at its default.
    """
    defaults = {
        PRODUCT_MODEL_SETTING: "django_payments_sync.Product",
        PRICING_MODEL_SETTING: "django_payments_sync.Pricing",
        CUSTOMER_OWNER_MODEL_SETTING: settings.AUTH_USER_MODEL,
    }
    for name, value in defaults.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)


def product_model_name() -> str:
    """The ``app_label.ModelName`` of the Product model in use."""
    return getattr(settings, PRODUCT_MODEL_SETTING, "django_payments_sync.Product")


def pricing_model_name() -> str:
    """The ``app_label.ModelName`` of the Pricing model in use."""
    return getattr(settings, PRICING_MODEL_SETTING, "django_payments_sync.Pricing")


def customer_owner_model_name() -> str:
    """The ``app_label.ModelName`` of the model that owns a billing customer."""
    return getattr(settings, CUSTOMER_OWNER_MODEL_SETTING, settings.AUTH_USER_MODEL)


class PaymentsSettings:
    """Reads ``settings.PAYMENTS_SYNC`` lazily, merged over :data:`DEFAULTS`."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "PAYMENTS_SYNC", None) or {}
        if not isinstance(value, dict):
            raise ImproperlyConfigured("settings.PAYMENTS_SYNC must be a dict.")
        return value

    def unknown_keys(self) -> list[str]:
        """Keys of ``PAYMENTS_SYNC`` (and of its nested dicts) that this version does not know."""
        unknown = [key for key in self.user_settings if key not in DEFAULTS]
        for key in NESTED_KEYS:
            nested = self.user_settings.get(key)
            if isinstance(nested, dict):
                unknown += [f"{key}.{sub}" for sub in nested if sub not in DEFAULTS[key]]
        return sorted(unknown)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Unknown django-payments-sync setting: {name!r}")
        if name in self._cache:
            return self._cache[name]
        unknown = self.unknown_keys()
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown key(s) in settings.PAYMENTS_SYNC: {', '.join(unknown)}. "
                f"Known keys: {', '.join(sorted(DEFAULTS))}."
            )
        value = self.user_settings.get(name, DEFAULTS[name])
        # Copies, so callers cannot change the settings by accident; OPTIONS only shallowly,
        # since backends may take objects there (an HTTP client) that cannot be deep-copied.
        if name == "OPTIONS" and isinstance(value, dict):
            value = dict(value)
        else:
            value = copy.deepcopy(value)
        if name in NESTED_KEYS:
            if not isinstance(value, dict):
                raise ImproperlyConfigured(f"settings.PAYMENTS_SYNC[{name!r}] must be a dict.")
            value = {**copy.deepcopy(DEFAULTS[name]), **value}
        self._cache[name] = value
        return value

    def reload(self) -> None:
        self._cache.clear()


payments_settings = PaymentsSettings()

#: Callbacks run when the settings change (so modules can drop what they cached from them).
_reload_callbacks: list[Any] = []


def on_reload(callback: Any) -> Any:
    """Register ``callback()`` to run whenever ``PAYMENTS_SYNC`` changes."""
    _reload_callbacks.append(callback)
    return callback


@receiver(setting_changed)
def _reload_payments_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "PAYMENTS_SYNC" or setting.startswith("PAYMENTS_SYNC_"):
        payments_settings.reload()
        for callback in _reload_callbacks:
            callback()


@functools.cache
def get_adapter() -> DefaultPaymentsAdapter:
    """The configured adapter instance (one per process, rebuilt when the settings change).

    It lives here, beside the setting that names it, so that every layer can ask the host's
    policy without importing :mod:`django_payments_sync.adapter`, whose default methods call
    the services above those layers (the adapter is loaded by name, like a Django backend).
    """
    cls = import_string(payments_settings.ADAPTER)
    return cls()


on_reload(get_adapter.cache_clear)
