"""``manage.py seed_demo``: three plans, monthly and yearly, and a demo user (idempotent)."""

from __future__ import annotations

from typing import Any

from accounts.teams import team_of
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from django_payments_sync.models import get_pricing_model, get_product_model

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_TEAM = "Demo Team"

#: name, description, metadata (features, comma-separated, and limits: the plan catalog reads
#: both), monthly and yearly amounts in cents (EUR).
PLANS: list[tuple[str, str, dict[str, str], int, int]] = [
    (
        "Starter",
        "For one person trying things out.",
        {"features": "1 project, Community support", "seats": "1"},
        900,
        9000,
    ),
    (
        "Team",
        "For small teams shipping together.",
        {"features": "10 projects, Email support", "seats": "10"},
        2900,
        29000,
    ),
    (
        "Business",
        "For companies that need more.",
        {"features": "Unlimited projects, Priority support, Single sign-on", "seats": "50"},
        9900,
        99000,
    ),
]


class Command(BaseCommand):
    help = "Create the demo's plans and its demo user; running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            created = self.seed_plans()
            user_created = self.seed_user()
        self.stdout.write(
            f"Seeded {len(PLANS)} plans ({created} new prices) and the demo user "
            f"{DEMO_EMAIL} ({'created' if user_created else 'already there'})."
        )

    def seed_plans(self) -> int:
        product_model = get_product_model()
        pricing_model = get_pricing_model()
        created = 0
        for position, (name, description, metadata, monthly, yearly) in enumerate(PLANS):
            product, _ = product_model._default_manager.update_or_create(
                name=name,
                defaults={
                    "description": description,
                    "metadata": metadata,
                    "position": position,
                    "active": True,
                },
            )
            for interval, amount in (("month", monthly), ("year", yearly)):
                _, was_created = pricing_model._default_manager.get_or_create(
                    product_id=product.pk,
                    interval=interval,
                    interval_count=1,
                    currency="eur",
                    amount=amount,
                    defaults={"nickname": f"{name} {interval}ly", "active": True},
                )
                created += int(was_created)
        return created

    def seed_user(self) -> bool:
        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(
            username=DEMO_EMAIL,
            defaults={"email": DEMO_EMAIL, "first_name": "Demo", "last_name": "User"},
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        # Staff, so the demo user can open the admin and its webhook event log.
        user.is_staff = True
        user.is_superuser = True
        user.save()
        team = team_of(user)
        if team.name != DEMO_TEAM:
            team.name = DEMO_TEAM
            team.save(update_fields=["name"])
        return created
