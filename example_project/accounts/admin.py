"""Admin of the accounts app: teams and their members."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name", "members__email", "members__username"]
    filter_horizontal = ["members"]
