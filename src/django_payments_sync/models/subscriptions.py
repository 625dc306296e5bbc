"""Subscriptions of customers to recurring prices, and their link to the provider."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone
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


class PauseBehavior(models.TextChoices):
    """What the provider does with the invoices of a subscription whose collection is paused."""

    KEEP_AS_DRAFT = "keep_as_draft", _("Keep invoices as drafts")
    MARK_UNCOLLECTIBLE = "mark_uncollectible", _("Mark invoices uncollectible")
    VOID = "void", _("Void invoices")


#: Statuses in which a subscription may give access (see :meth:`AbstractSubscription.is_entitled`).
ENTITLED_STATUSES = (
    "active",
    "trialing",
    "past_due",
)


def entitled_q(at: dt.datetime | None = None, *, prefix: str = "") -> models.Q:
    """:meth:`AbstractSubscription.is_entitled` as a query filter, for the checks that must be
    one query (entitlements): the same rule, and a test holds the two to the same answers.
    ``prefix`` names the subscription from another model (``"subscriptions__"``)."""
    from django_payments_sync.conf import payments_settings

    at = at or timezone.now()
    cutoff = at - dt.timedelta(days=int(payments_settings.GRACE_PERIOD_DAYS))

    def q(**lookups: Any) -> models.Q:
        return models.Q(**{prefix + name: value for name, value in lookups.items()})

    in_grace = q(past_due_since__gt=cutoff) | q(
        past_due_since__isnull=True, current_period_start__gt=cutoff
    )
    paid_up = q(status__in=("active", "trialing"))
    return (
        (paid_up | (q(status="past_due") & in_grace))
        & q(pause_behavior="")
        & ~q(cancel_at_period_end=True, current_period_end__lte=at)
    )


#: Statuses of subscriptions that are not over (changes and cancellation are allowed).
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
    past_due_since = models.DateTimeField(
        _("past due since"),
        null=True,
        blank=True,
        help_text=_("When the renewal that made it past_due failed (the grace period's start)."),
    )
    pause_behavior = models.CharField(
        _("collection paused"),
        max_length=24,
        choices=PauseBehavior.choices,
        blank=True,
        default="",
        help_text=_("Empty while the provider collects payments."),
    )
    resumes_at = models.DateTimeField(_("resumes at"), null=True, blank=True)

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

    @property
    def is_paused(self) -> bool:
        """Whether payment collection is paused (the provider's ``pause_collection``)."""
        return bool(self.pause_behavior)

    def grace_period_ends_at(self) -> dt.datetime | None:
        """When a past_due subscription loses its access (``GRACE_PERIOD_DAYS`` after the
        failed renewal; the period's start when the failure's time is unknown)."""
        if self.status != "past_due":
            return None
        from django_payments_sync.conf import payments_settings

        since = self.past_due_since or self.current_period_start
        if since is None:
            return None
        return since + dt.timedelta(days=int(payments_settings.GRACE_PERIOD_DAYS))

    def is_entitled(self, at: dt.datetime | None = None) -> bool:
        """Whether the owner has what this subscription sells at ``at`` (now by default).

        active and trialing: yes, while collection is not paused; set to cancel at the period's
        end: yes until that end; past_due: yes for ``GRACE_PERIOD_DAYS`` after the failed
        renewal; incomplete, incomplete_expired, unpaid, paused and canceled: no.
        """
        at = at or timezone.now()
        if self.status not in ENTITLED_STATUSES or self.is_paused:
            return False
        ended = self.current_period_end is not None and at >= self.current_period_end
        if self.cancel_at_period_end and ended:
            return False
        if self.status == "past_due":
            ends = self.grace_period_ends_at()
            return ends is not None and at < ends
        return True

    def note_status_change(self, previous_status: str | None, at: dt.datetime) -> None:
        """Keep ``past_due_since`` with the status: set when it becomes past_due, cleared when
        it leaves it (in memory; the caller saves)."""
        if self.status == "past_due" and previous_status != "past_due":
            self.past_due_since = at
        elif self.status != "past_due":
            self.past_due_since = None


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
