"""``manage.py seed_demo``: three plans, monthly and yearly, a one-off item, a promotion code, a
usage meter and a demo user (idempotent)."""

from __future__ import annotations

from typing import Any

from accounts.teams import team_of
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from demo_site.money import (
    ONE_OFF_AMOUNT,
    ONE_OFF_NAME,
    PROMOTION_CODE,
    PROMOTION_PERCENT_OFF,
    USAGE_METER,
    USAGE_METER_NAME,
)
from django_payments_sync.models import (
    Coupon,
    Meter,
    PromotionCode,
    get_pricing_model,
    get_product_model,
)

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_TEAM = "Demo Team"

#: name, description, metadata (features, comma-separated, and limits: the plan catalog reads
#: both), monthly and yearly amounts in cents (EUR). Business's "Single sign-on" opens /sso/
#: (demo_site.money.SSO_FEATURE).
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
            created += self.seed_one_off()
            self.seed_promotion_code()
            self.seed_meter()
            user_created = self.seed_user()
        self.stdout.write(
            f"Seeded {len(PLANS)} plans and {ONE_OFF_NAME!r} ({created} new prices), the "
            f"promotion code {PROMOTION_CODE}, the meter {USAGE_METER_NAME!r} and the demo user "
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

    def seed_one_off(self) -> int:
        """A one-time price, bought once through the one-off charge checkout (and refundable
        from the admin). Not a plan: the pricing page lists it on its own."""
        product, _ = get_product_model()._default_manager.update_or_create(
            name=ONE_OFF_NAME,
            defaults={
                "description": "An hour with our team to set your workspace up.",
                "metadata": {},
                "position": len(PLANS),
                "active": True,
            },
        )
        _, created = get_pricing_model()._default_manager.get_or_create(
            product_id=product.pk,
            interval="",
            currency="eur",
            amount=ONE_OFF_AMOUNT,
            defaults={"nickname": ONE_OFF_NAME, "active": True},
        )
        return int(created)

    def seed_promotion_code(self) -> None:
        """20% off the first payment, as the code customers type at checkout. Pushed where the
        provider has discounts (Stripe); with Paddle it stays local and the field is hidden."""
        coupon, _ = Coupon.objects.get_or_create(
            name="Welcome",
            defaults={"percent_off": PROMOTION_PERCENT_OFF, "duration": "once", "active": True},
        )
        PromotionCode.objects.get_or_create(code=PROMOTION_CODE, defaults={"coupon": coupon})

    def seed_meter(self) -> None:
        Meter.objects.get_or_create(
            event_name=USAGE_METER, defaults={"display_name": USAGE_METER_NAME}
        )

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
