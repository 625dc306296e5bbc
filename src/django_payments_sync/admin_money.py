"""The admin's money: the refunds of an order (inline and their own list), the action that
refunds selected orders after a confirmation page, coupons with their promotion codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_payments_sync.backends.types import REFUND_REASONS
from django_payments_sync.currencies import format_amount
from django_payments_sync.exceptions import PaymentsSyncError
from django_payments_sync.models import Coupon, Order, PromotionCode, Refund

CONFIRMATION_TEMPLATE = "django_payments_sync/admin/refund_confirmation.html"


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    fields = (
        "external_id",
        "amount",
        "currency",
        "status",
        "reason",
        "failure_reason",
        "created_at",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class RefundAdmin(admin.ModelAdmin):
    list_display = ("id", "order", "amount", "currency", "status", "reason", "created_at")
    list_filter = ("status", "provider", "reason")
    search_fields = ("external_id", "order__customer__email", "order__customer__name")
    readonly_fields = (
        "order",
        "payment_attempt",
        "provider",
        "external_id",
        "amount",
        "currency",
        "status",
        "reason",
        "failure_reason",
        "last_event_at",
    )

    def has_add_permission(self, request: Any) -> bool:
        return False  # refunds are made on orders (the action), never typed in


class RefundForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Amount (minor units)"),
        min_value=1,
        required=False,
        help_text=_(
            "In the currency's smallest unit: 1500 is 15.00 EUR. Empty: all that is left of "
            "each order."
        ),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", "-")] + [(r, r.replace("_", " ").capitalize()) for r in REFUND_REASONS],
    )


@admin.action(description=_("Refund selected orders"), permissions=["change"])
def refund_orders(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Order]
) -> Any:
    """Ask first (a page listing the orders and what is left of each); then refund each."""
    from django_payments_sync.interactor.refunds import refundable_amount

    orders = list(queryset.select_related("customer").order_by("pk"))
    form = RefundForm(request.POST if "confirm" in request.POST else None)
    if form.is_bound and form.is_valid():
        amount = form.cleaned_data["amount"]
        if amount is not None and len(orders) > 1:
            form.add_error(
                "amount", _("An amount refunds one order: select one, or leave it empty.")
            )
        else:
            _refund_each(modeladmin, request, orders, amount, form.cleaned_data["reason"])
            return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Refund orders"),
        "opts": modeladmin.model._meta,
        "form": form,
        # (order, what is left in minor units, its amount, refunded and left as money).
        "rows": [_refund_row(order, refundable_amount(order)) for order in orders],
        "queryset": queryset,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


def _refund_row(order: Order, left: int) -> tuple[Order, int, str, str, str]:
    """An order on the confirmation page: its amounts as money ("49.00 EUR"), not in cents."""
    return (
        order,
        left,
        format_amount(order.amount, order.currency),
        format_amount(order.amount_refunded, order.currency),
        format_amount(left, order.currency),
    )


def _refund_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    orders: list[Order],
    amount: int | None,
    reason: str,
) -> None:
    from django_payments_sync.interactor.refunds import refund_order

    done = 0
    for order in orders:
        try:
            refund_order(order, amount, reason=reason)
        except PaymentsSyncError as exc:
            modeladmin.message_user(
                request,
                _("Order #%(id)s: %(error)s") % {"id": order.pk, "error": exc},
                messages.ERROR,
            )
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(count)d order refunded.", "%(count)d orders refunded.", done)
            % {"count": done},
            messages.SUCCESS,
        )


# --- coupons and promotion codes ------------------------------------------------------------
class PromotionCodeInline(admin.TabularInline):
    model = PromotionCode
    extra = 0
    fields = ("code", "active", "max_redemptions", "expires_at", "sync_status")
    readonly_fields = ("sync_status",)


class CouponAdmin(admin.ModelAdmin):
    list_display = ("name", "describe", "active", "max_redemptions", "redeem_by", "sync_status")
    list_filter = ("active", "duration", "sync_status")
    search_fields = ("name", "promotion_codes__code", "external_coupons__external_id")
    filter_horizontal = ("products",)
    readonly_fields = ("sync_status", "sync_error", "synced_at")
    inlines = (PromotionCodeInline,)

    @admin.display(description=_("discount"))
    def describe(self, obj: Coupon) -> str:
        return obj.describe()


class PromotionCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "coupon", "active", "max_redemptions", "expires_at", "sync_status")
    list_filter = ("active", "sync_status")
    search_fields = ("code", "coupon__name", "external_promotion_codes__external_id")
    raw_id_fields = ("coupon",)
    readonly_fields = ("sync_status", "sync_error", "synced_at")


class SubscriptionDiscountAdmin(admin.ModelAdmin):
    list_display = ("subscription", "promotion_code", "applied_at")
    search_fields = ("promotion_code__code", "subscription__customer__email")
    raw_id_fields = ("subscription", "promotion_code")


# --- usage meters ---------------------------------------------------------------------------
class MeterAdmin(admin.ModelAdmin):
    list_display = ("display_name", "event_name", "aggregation", "active", "sync_status")
    list_filter = ("active", "aggregation", "sync_status")
    search_fields = ("display_name", "event_name", "external_meters__external_id")
    readonly_fields = ("sync_status", "sync_error", "synced_at")


class UsageEventAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was recorded and whether the provider has it."""

    list_display = ("identifier", "meter", "customer", "quantity", "timestamp", "status")
    list_filter = ("status", "meter")
    search_fields = ("identifier", "customer__email", "customer__name")
    readonly_fields = (
        "meter",
        "customer",
        "quantity",
        "timestamp",
        "identifier",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    )

    def has_add_permission(self, request: Any) -> bool:
        return False  # usage is recorded by payments.record_usage(), never typed in
