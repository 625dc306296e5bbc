"""The example project's adapter: a team, not a user, is the paying customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from accounts.teams import create_team_for, team_of
from django_payments_sync.adapter import DefaultPaymentsAdapter

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from accounts.models import Team


class TeamAdapter(DefaultPaymentsAdapter):
    """Host policy of the demo: requests are paid for by the user's team."""

    def get_customer_owner(self, request: HttpRequest) -> Team | None:
        user = request.user
        if not user.is_authenticated:
            return None
        return team_of(user)

    def get_or_create_user(self, email: str, name: str = "", **kwargs: Any) -> AbstractBaseUser:
        """The user with ``email``, or a new one (with a team) for a checkout by a new email."""
        user_model = get_user_model()
        user = user_model._default_manager.filter(email__iexact=email).order_by("pk").first()
        if user is not None:
            return user
        first, _, last = name.partition(" ")
        user = user_model._default_manager.create_user(  # type: ignore[attr-defined]
            username=email, email=email, first_name=first, last_name=last
        )
        self.post_user_created(user)
        return user

    def post_user_created(self, user: AbstractBaseUser, **kwargs: Any) -> None:
        """Every new user starts with a team of their own."""
        if not user.teams.exists():  # type: ignore[attr-defined]
            create_team_for(user)
