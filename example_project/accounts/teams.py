"""Creating and finding a user's team: the one place that decides which team pays for a user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import Team

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def default_team_name(user: AbstractBaseUser) -> str:
    full_name = getattr(user, "get_full_name", None)
    label = (full_name() if callable(full_name) else "") or user.get_username()
    return f"{label}'s team"


@transaction.atomic
def create_team_for(user: AbstractBaseUser, name: str = "") -> Team:
    """A new team with ``user`` as its only member."""
    team = Team.objects.create(name=name or default_team_name(user))
    team.members.add(user.pk)
    return team


def team_of(user: AbstractBaseUser) -> Team:
    """The team that pays for ``user`` (as the adapter decides), created if they have none yet."""
    from django_payments_sync.adapter import get_adapter

    team = get_adapter().get_owner_for_user(user, create=True)
    assert isinstance(team, Team)
    return team
