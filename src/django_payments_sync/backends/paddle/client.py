"""Building the Paddle backend's ``paddle_billing.Client`` from its options, and checking them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.core.checks import CheckMessage, Error, Warning
from paddle_billing import Client, Environment, Options
from requests import Session
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

#: Paddle's two environments; ``api_base`` overrides either (the bundled emulator in tests).
ENVIRONMENTS = ("sandbox", "production")


@dataclass(frozen=True)
class CustomBase:
    """An environment at another address: the SDK reads only ``base_url`` of it."""

    base_url: str


def build_client(options: Mapping[str, Any]) -> Client:
    """A client of its own, with its own ``requests`` session: no global state is set.

    The SDK's session retries only ``https://`` requests; this one retries (``max_retries``
    times, on 429/5xx and connection errors) whatever the scheme, honouring ``Retry-After``.
    """
    api_key = str(options["api_key"])
    base = options["api_base"]
    environment: Any = (
        CustomBase(str(base).rstrip("/") + "/") if base else Environment(options["environment"])
    )
    session = build_session(api_key, int(options["max_retries"]), float(options["retry_backoff"]))
    return Client(
        api_key,
        options=Options(environment=cast(Environment, environment)),
        http_client=session,
        retry_count=int(options["max_retries"]),
        timeout=float(options["timeout"]),
    )


def build_session(api_key: str, retries: int, backoff: float) -> Session:
    session = Session()
    session.headers.update(
        {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Paddle-Version": "1",
            "User-Agent": "django-payments-sync (paddle-python-sdk)",
        }
    )
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,  # a request that reached Paddle and timed out may have been applied
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # POST too: Paddle answers 5xx before applying a request
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def key_environment(api_key: str) -> str | None:
    """The environment a key belongs to, from its prefix (``pdl_sdbx_``, ``pdl_live_``);
    ``None`` for a key without one (older keys, the emulator's)."""
    if api_key.startswith("pdl_sdbx_"):
        return "sandbox"
    if api_key.startswith("pdl_live_"):
        return "production"
    return None


def check_paddle_options(options: Mapping[str, Any]) -> list[CheckMessage]:
    """System-check messages about the Paddle options: the key, the environment, the secret."""
    messages: list[CheckMessage] = []
    api_key = options.get("api_key")
    environment = options.get("environment", "sandbox")
    if not api_key or not isinstance(api_key, str):
        messages.append(
            Error(
                "The Paddle backend has no API key.",
                hint="Set PAYMENTS_SYNC['OPTIONS']['api_key'] to an API key from Paddle > "
                "Developer tools > Authentication (pdl_sdbx_... for sandbox, pdl_live_... for "
                "production).",
                id="payments_sync.E014",
            )
        )
    if environment not in ENVIRONMENTS:
        messages.append(
            Error(
                f"PAYMENTS_SYNC['OPTIONS']['environment'] is {environment!r}.",
                hint="The Paddle backend's environment is 'sandbox' or 'production'.",
                id="payments_sync.E014",
            )
        )
    elif isinstance(api_key, str) and not options.get("api_base"):
        found = key_environment(api_key)
        if found is not None and found != environment:
            messages.append(
                Error(
                    f"The Paddle API key is a {found} key, but the environment is {environment!r}.",
                    hint=f"Set PAYMENTS_SYNC['OPTIONS']['environment'] to {found!r}, or use a "
                    f"{environment} key.",
                    id="payments_sync.E014",
                )
            )
    if not options.get("webhook_secret"):
        messages.append(
            Warning(
                "The Paddle backend has no webhook secret key: webhooks will be refused.",
                hint="Run `manage.py payments_sync webhook-endpoint <site URL>` (or add a "
                "notification destination in Paddle > Developer tools > Notifications) and set "
                "PAYMENTS_SYNC['OPTIONS']['webhook_secret'] to its secret key "
                "(pdl_ntfset_...); during a rotation, a list of both keys.",
                id="payments_sync.W001",
            )
        )
    return messages
