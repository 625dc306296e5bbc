"""Models used by tests that swap the library's models or own customers by organization."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from django_payments_sync.models import AbstractProduct


class Organization(models.Model):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organizations")

    def __str__(self) -> str:
        return self.name


class CustomProduct(AbstractProduct):
    """A host's own Product (only swapped in by tests that say so)."""

    sku = models.CharField(max_length=32, blank=True, default="")


class NotAProduct(models.Model):
    """A model that is not a product: swapping it in must fail the system checks."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name
