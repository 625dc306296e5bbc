"""``manage.py demo_check``: the demo's customer journey over HTTP, exiting non-zero on failure."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo_site.journey import DEFAULT_VAT_COUNTRY, DEFAULT_VAT_NUMBER, Journey
from demo_site.paddle_journey import PaddleJourney


class Command(BaseCommand):
    help = (
        "Go through the demo as a customer, over HTTP: sign up, billing details with an EU VAT "
        "number, checkout, a declined card, payment, webhooks, invoices, portal cancellation, "
        "and the admin's event log. Needs the site running and the provider's emulator "
        "(Stripe's, or Paddle's with DEMO_PROVIDER=paddle, where the journey also changes "
        "the plan)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site-url", default="http://127.0.0.1:8000", help="the running site")
        parser.add_argument(
            "--provider-url",
            default=None,
            help="the provider's emulator (default: the STRIPE_API_BASE or PADDLE_API_BASE the "
            "site uses)",
        )
        parser.add_argument("--vat-number", default=DEFAULT_VAT_NUMBER)
        parser.add_argument("--vat-country", default=DEFAULT_VAT_COUNTRY)
        parser.add_argument(
            "--wait", type=float, default=30.0, help="seconds to wait for each webhook effect"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        provider_url = options["provider_url"] or settings.PROVIDER_API_BASE
        paddle = settings.DEMO_PROVIDER == "paddle"
        if not provider_url:
            name, variable = (
                ("Paddle", "PADDLE_API_BASE") if paddle else ("Stripe", "STRIPE_API_BASE")
            )
            raise CommandError(
                f"The journey pays on the {name} emulator's hosted page: set {variable} "
                "(scripts/demo --check does) or pass --provider-url."
            )
        journey = (PaddleJourney if paddle else Journey)(
            site_url=options["site_url"],
            provider_url=provider_url,
            out=self.stdout,
            vat_number=options["vat_number"],
            vat_country=options["vat_country"],
            wait_seconds=options["wait"],
        )
        if not journey.run():
            raise CommandError("The demo journey failed (see the step marked FAIL above).")
