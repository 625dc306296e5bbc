"""Django admin for every model: searchable by email, name and external id; payloads read-only."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_payments_sync.admin_money import (
    CouponAdmin,
    MeterAdmin,
    PromotionCodeAdmin,
    RefundAdmin,
    RefundInline,
    SubscriptionDiscountAdmin,
    UsageEventAdmin,
    refund_orders,
)
from django_payments_sync.models import (
    BillingInformation,
    Coupon,
    Customer,
    ExternalCoupon,
    ExternalCustomer,
    ExternalMeter,
    ExternalPricing,
    ExternalProduct,
    ExternalPromotionCode,
    ExternalSubscription,
    Invoice,
    Meter,
    Order,
    PaymentAttempt,
    Pricing,
    Product,
    PromotionCode,
    ProviderDeletion,
    Refund,
    Subscription,
    SubscriptionDiscount,
    SyncState,
    UsageEvent,
    VatCheck,
    WebhookEvent,
)

EXTERNAL_FIELDS = (
    "provider",
    "account",
    "external_id",
    "content_hash",
    "last_event_at",
    "last_event_id",
)


class ExternalInline(admin.TabularInline):
    extra = 0
    fields = EXTERNAL_FIELDS
    readonly_fields = EXTERNAL_FIELDS
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ExternalCustomerInline(ExternalInline):
    model = ExternalCustomer


class ExternalProductInline(ExternalInline):
    model = ExternalProduct


class ExternalPricingInline(ExternalInline):
    model = ExternalPricing


class ExternalSubscriptionInline(ExternalInline):
    model = ExternalSubscription


class BillingInformationInline(admin.StackedInline):
    model = BillingInformation
    extra = 0
    readonly_fields = ("is_from_eu", "tax_exemption", "tax_decision_reason", "vat_validated_at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "owner", "sync_status", "created_at")
    list_filter = ("sync_status", "external_customers__provider")
    search_fields = ("email", "name", "external_customers__external_id")
    readonly_fields = (
        "sync_status",
        "sync_error",
        "synced_at",
        "created_at",
        "updated_at",
        "entitlements",
        # The provider's word (its entitlements events), never edited here.
        "provider_entitlements",
        "provider_entitlements_at",
    )
    raw_id_fields = ("owner",)
    inlines = (BillingInformationInline, ExternalCustomerInline)

    @admin.display(description=_("entitlements"))
    def entitlements(self, obj: Customer) -> str:
        """What ``payments.has_feature`` and ``payments.limit`` answer for the owner now."""
        if obj.pk is None or obj.owner_id is None:
            return "-"
        from django_payments_sync.interactor.entitlements import read_entitlements

        found = read_entitlements(obj.owner)
        features = ", ".join(sorted(found.features)) or _("none")
        limits = ", ".join(f"{k}={v}" for k, v in sorted(found.limits.items())) or _("none")
        source = _("free tier") if found.on_free_tier else _("from the plan")
        return f"{_('features')}: {features}; {_('limits')}: {limits} ({source})"


@admin.register(BillingInformation)
class BillingInformationAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "country", "tax_id", "tax_exemption", "vat_validation_status")
    list_filter = ("tax_exemption", "vat_validation_status", "is_from_eu", "country")
    search_fields = ("name", "email", "tax_id", "customer__email")
    readonly_fields = ("is_from_eu", "tax_exemption", "tax_decision_reason", "vat_validated_at")
    raw_id_fields = ("customer",)


class PricingInline(admin.TabularInline):
    model = Pricing
    extra = 0
    fields = ("nickname", "amount", "currency", "interval", "interval_count", "meter", "active")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "position", "sync_status", "updated_at")
    list_filter = ("active", "sync_status", "external_products__provider")
    search_fields = ("name", "description", "external_products__external_id")
    readonly_fields = ("sync_status", "sync_error", "synced_at")
    inlines = (PricingInline, ExternalProductInline)


@admin.register(Pricing)
class PricingAdmin(admin.ModelAdmin):
    list_display = ("__str__", "amount", "currency", "interval", "meter", "active", "sync_status")
    list_filter = (
        "active",
        "currency",
        "interval",
        "meter",
        "sync_status",
        "external_pricings__provider",
    )
    list_select_related = ("product", "meter")
    search_fields = ("nickname", "product__name", "external_pricings__external_id")
    readonly_fields = ("sync_status", "sync_error", "synced_at")
    raw_id_fields = ("product",)
    inlines = (ExternalPricingInline,)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("customer", "pricing", "quantity", "status", "current_period_end")
    list_filter = (
        "status",
        "cancel_at_period_end",
        "pause_behavior",
        "sync_status",
        "external_subscriptions__provider",
    )
    search_fields = ("customer__email", "customer__name", "external_subscriptions__external_id")
    readonly_fields = ("sync_status", "sync_error", "synced_at", "past_due_since")
    raw_id_fields = ("customer", "pricing")
    inlines = (ExternalSubscriptionInline,)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """The provider's invoices as their events recorded them: read only (the provider issues
    them; a change here would be overwritten by the next event)."""

    list_display = ("__str__", "customer", "status", "total", "currency", "issued_at", "paid_at")
    list_filter = ("status", "provider", "action_required", "billing_reason")
    search_fields = ("number", "external_id", "customer__email", "customer__name")
    raw_id_fields = ("customer", "subscription")
    date_hierarchy = "issued_at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class PaymentAttemptInline(admin.TabularInline):
    model = PaymentAttempt
    extra = 0
    fields = ("provider", "external_id", "status", "failure_message", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "customer",
        "pricing",
        "quantity",
        "amount",
        "amount_refunded",
        "currency",
        "status",
    )
    list_filter = ("status", "payment_attempts__provider")
    search_fields = ("customer__email", "customer__name", "payment_attempts__external_id")
    raw_id_fields = ("customer", "pricing", "subscription")
    readonly_fields = ("amount_refunded",)
    inlines = (PaymentAttemptInline, RefundInline)
    actions = (refund_orders,)


admin.site.register(Refund, RefundAdmin)
admin.site.register(Coupon, CouponAdmin)
admin.site.register(PromotionCode, PromotionCodeAdmin)
admin.site.register(SubscriptionDiscount, SubscriptionDiscountAdmin)
admin.site.register(Meter, MeterAdmin)
admin.site.register(UsageEvent, UsageEventAdmin)


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(admin.ModelAdmin):
    list_display = ("external_id", "provider", "order", "status", "created_at")
    list_filter = ("provider", "status")
    search_fields = ("external_id", "order__customer__email")
    readonly_fields = ("provider", "external_id", "checkout_url", "last_event_at")
    raw_id_fields = ("order",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "provider", "status", "attempts", "provider_created_at")
    list_filter = ("provider", "status", "type", "livemode")
    search_fields = ("event_id", "type", "ordering_key", "waiting_for")
    date_hierarchy = "provider_created_at"
    actions = ("process_events", "retry_events", "replay_events")
    readonly_fields = (
        "provider",
        "event_id",
        "type",
        "livemode",
        "provider_created_at",
        "ordering_key",
        "status",
        "waiting_for",
        "attempts",
        "last_error",
        "received_at",
        "processed_at",
        "updated_at",
        "formatted_payload",
    )
    exclude = ("payload",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    @admin.display(description=_("payload"))
    def formatted_payload(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    # Same work as `payments_sync events process|retry|replay`, under the same locks.
    @admin.action(description=_("Process selected received or deferred events"))
    def process_events(self, request: Any, queryset: Any) -> None:
        from django_payments_sync.webhooks import processing

        pending = queryset.filter(status__in=["received", "deferred"])
        report = processing.replay_events(pending.values_list("pk", flat=True))
        self.message_user(request, _("Processed: %s.") % report)

    @admin.action(description=_("Retry selected failed events"))
    def retry_events(self, request: Any, queryset: Any) -> None:
        from django_payments_sync.webhooks import processing

        report = processing.retry_failed(queryset.values_list("pk", flat=True))
        self.message_user(request, _("Retried: %s.") % report)

    @admin.action(description=_("Replay selected events"))
    def replay_events(self, request: Any, queryset: Any) -> None:
        from django_payments_sync.webhooks import processing

        report = processing.replay_events(queryset.values_list("pk", flat=True))
        self.message_user(request, _("Replayed: %s.") % report)


class ExternalAdmin(admin.ModelAdmin):
    """The provider links: read-only, since the sync service and webhooks maintain them."""

    list_display = ("external_id", "provider", "local", "last_event_at", "updated_at")
    list_filter = ("provider",)
    search_fields: ClassVar[list[str] | tuple[str, ...]] = ("external_id",)
    readonly_fields: ClassVar[tuple[str, ...]] = (*EXTERNAL_FIELDS, "created_at", "updated_at")

    def has_add_permission(self, request: Any) -> bool:
        return False

    @admin.display(description=_("local record"))
    def local(self, obj: Any) -> str:
        return str(getattr(obj, self.local_field))

    local_field = ""


@admin.register(ExternalCustomer)
class ExternalCustomerAdmin(ExternalAdmin):
    local_field = "customer"
    search_fields = ("external_id", "customer__email", "customer__name")
    raw_id_fields = ("customer",)
    readonly_fields = (*ExternalAdmin.readonly_fields, "synced_state")


@admin.register(ExternalProduct)
class ExternalProductAdmin(ExternalAdmin):
    local_field = "product"
    search_fields = ("external_id", "product__name")
    raw_id_fields = ("product",)


@admin.register(ExternalPricing)
class ExternalPricingAdmin(ExternalAdmin):
    local_field = "pricing"
    search_fields = ("external_id", "pricing__product__name", "pricing__nickname")
    raw_id_fields = ("pricing",)


@admin.register(ExternalSubscription)
class ExternalSubscriptionAdmin(ExternalAdmin):
    local_field = "subscription"
    search_fields = ("external_id", "subscription__customer__email")
    raw_id_fields = ("subscription",)


@admin.register(ExternalCoupon)
class ExternalCouponAdmin(ExternalAdmin):
    local_field = "coupon"
    search_fields = ("external_id", "coupon__name")
    raw_id_fields = ("coupon",)


@admin.register(ExternalPromotionCode)
class ExternalPromotionCodeAdmin(ExternalAdmin):
    local_field = "promotion_code"
    search_fields = ("external_id", "promotion_code__code")
    raw_id_fields = ("promotion_code",)


@admin.register(ExternalMeter)
class ExternalMeterAdmin(ExternalAdmin):
    local_field = "meter"
    search_fields = ("external_id", "meter__event_name")
    raw_id_fields = ("meter",)


@admin.register(ProviderDeletion)
class ProviderDeletionAdmin(admin.ModelAdmin):
    """What was deleted at the provider: why a customer is not pushed again (read-only)."""

    list_display = ("external_id", "object_type", "provider", "deleted_at", "event_id")
    list_filter = ("provider", "object_type")
    search_fields = ("external_id", "event_id")
    readonly_fields = tuple(f.name for f in ProviderDeletion._meta.fields)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    """The library's own values (installation id, bound account, reconcile checkpoint)."""

    list_display = ("key", "value", "updated_at")
    search_fields = ("key",)
    readonly_fields = ("key", "value", "updated_at")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(VatCheck)
class VatCheckAdmin(admin.ModelAdmin):
    list_display = ("country_code", "vat_number", "status", "name", "checked_at", "expires_at")
    list_filter = ("status", "country_code")
    search_fields = ("vat_number", "name", "request_identifier")
    readonly_fields = tuple(f.name for f in VatCheck._meta.fields)

    def has_add_permission(self, request: Any) -> bool:
        return False
