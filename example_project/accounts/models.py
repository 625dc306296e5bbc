"""Teams: the customer owner (``PAYMENTS_SYNC_CUSTOMER_OWNER_MODEL = "accounts.Team"``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class TeamQuerySet(models.QuerySet["Team"]):
    def for_user(self, user: AbstractBaseUser) -> TeamQuerySet:
        return self.filter(members=user)


class Team(models.Model):
    """A group of users that pays as one customer: what one member buys, the whole team has."""

    name = models.CharField("name", max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="members", related_name="teams"
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = "team"
        verbose_name_plural = "teams"

    def __str__(self) -> str:
        return self.name
