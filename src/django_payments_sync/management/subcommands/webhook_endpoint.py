"""Register this site's webhook endpoint at the provider and print its signing secret.

``webhook-endpoint https://shop.example`` registers, for every event type, the configured
provider's route, e.g. ``https://shop.example/api/payment/stripe/webhook/`` (the path the
URLconf gives its webhook view); put the printed secret in
``PAYMENTS_SYNC["OPTIONS"]["webhook_secret"]``.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from django_payments_sync.backends import get_backend
from django_payments_sync.exceptions import PaymentsSyncError

#: Where a provider's webhook view lives when the host includes our URLconf under ``api/payment/``.
DEFAULT_PATH = "/api/payment/{provider}/webhook/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site", help="The site's public base URL, e.g. https://shop.example")
    parser.add_argument(
        "--events",
        default="*",
        help="Comma-separated event types to subscribe to (default: all, '*').",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="Delete endpoints already registered for the same URL first (their secret changes).",
    )


def webhook_path(provider: str) -> str:
    """The path of ``provider``'s webhook route in this site's URLconf."""
    try:
        return reverse("payments_sync:webhook", kwargs={"provider": provider})
    except NoReverseMatch:
        return DEFAULT_PATH.format(provider=provider)


def endpoint_url(site: str, provider: str) -> str:
    parts = urlsplit(site.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(f"{site!r} is not a site URL: give one like https://shop.example")
    if parts.query or parts.fragment:
        raise CommandError(f"{site!r} has a query or fragment: give the site's base URL only.")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{webhook_path(provider)}"


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    backend = get_backend()
    url = endpoint_url(options["site"], backend.provider_name)
    events = [e.strip() for e in str(options.get("events") or "*").split(",") if e.strip()]
    try:
        existing = [e for e in backend.list_webhook_endpoints() if e.url == url]
        if existing and not options.get("replace"):
            ids = ", ".join(e.id for e in existing)
            raise CommandError(
                f"{url} is already registered ({ids}); its secret is only shown once. "
                "Run again with --replace to register it anew."
            )
        for old in existing:
            backend.delete_webhook_endpoint(old.id)
            command.stdout.write(f"Deleted endpoint {old.id}.")
        endpoint = backend.create_webhook_endpoint(url, events)
    except PaymentsSyncError as exc:
        raise CommandError(f"The provider refused: {exc}") from exc
    command.stdout.write(f"Registered {endpoint.url} as {endpoint.id} for {', '.join(events)}.")
    command.stdout.write("Put its signing secret in your settings:")
    command.stdout.write(f'    PAYMENTS_SYNC["OPTIONS"]["webhook_secret"] = "{endpoint.secret}"')
    return 0
