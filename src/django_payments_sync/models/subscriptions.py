"""Subscriptions of customers to recurring prices, and their link to the provider."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_payments_sync.conf import pricing_model_name
from django_payments_sync.models.base import ExternalPaymentProvider, SyncedModel


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", _("Incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("Incomplete, expired")
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    UNPAID = "unpaid", _("Unpaid")
    PAUSED = "paused", _("Paused")
    CANCELED = "canceled", _("Canceled")


#: Statuses that count towards the active-subscription limit.
LIVE_SUBSCRIPTION_STATUSES = (
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.PAUSED,
)


class AbstractSubscription(SyncedModel):
    customer = models.ForeignKey(
        "django_payments_sync.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    pricing = models.ForeignKey(
        pricing_model_name(),
        verbose_name=_("pricing"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.INCOMPLETE,
        db_index=True,
    )
    current_period_start = models.DateTimeField(_("current period start"), null=True, blank=True)
    current_period_end = models.DateTimeField(_("current period end"), null=True, blank=True)
    trial_end = models.DateTimeField(_("trial end"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancel at period end"), default=False)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.customer} - {self.pricing} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_SUBSCRIPTION_STATUSES


class Subscription(AbstractSubscription):
    class Meta(AbstractSubscription.Meta):
        pass


class ExternalSubscription(ExternalPaymentProvider):
    subscription = models.ForeignKey(
        "django_payments_sync.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="external_subscriptions",
    )

    class Meta:
        verbose_name = _("external subscription")
        verbose_name_plural = _("external subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="payments_sync_extsub_id"
            ),
            models.UniqueConstraint(
                fields=["provider", "subscription"], name="payments_sync_extsub_one"
            ),
        ]
