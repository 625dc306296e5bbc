"""The example project's adapter: a team, not a user, is the paying customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Team
from accounts.teams import create_team_for
from django_payments_sync.adapter import DefaultPaymentsAdapter

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class TeamAdapter(DefaultPaymentsAdapter):
    """Host policy of the demo: a user's purchases are paid for by (and belong to) their team.

    The library's default ``get_customer_owner(request)`` and ``get_or_create_user(email, name)``
    both go through :meth:`get_owner_for_user`, so deciding "which team" here covers the pages,
    the API and users created at checkout alike.
    """

    def get_owner_for_user(self, user: AbstractBaseUser, *, create: bool = False) -> Team | None:
        """The user's first team; with ``create`` (a user made at checkout) a new one if none."""
        team = Team.objects.for_user(user).order_by("pk").first()
        if team is not None or not create:
            return team
        with transaction.atomic():
            # Two webhook deliveries for the same new user must not make two teams: lock the
            # user's row, then look again.
            get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
            team = Team.objects.for_user(user).order_by("pk").first()
            return team or create_team_for(user)

    def get_owner_name(self, owner: Any) -> str:
        return owner.name if isinstance(owner, Team) else super().get_owner_name(owner)

    def post_user_created(self, user: Any) -> None:
        """Every user gets a team of their own (sign-up names it; other paths use a default).

        Runs after the commit that created the user, for users from ``createsuperuser`` or the
        admin too; idempotent, since sign-up and checkout create the team themselves.
        """
        if not Team.objects.for_user(user).exists():
            create_team_for(user)
