"""The Stripe backend (the default): the provider contract over ``stripe.StripeClient``."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any, ClassVar, Literal, cast

import stripe
from django.core.checks import CheckMessage
from stripe.params import SubscriptionUpdateParams
from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import SessionCreateParams as CheckoutSessionCreateParams

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.stripe import params as convert
from django_payments_sync.backends.stripe.client import build_client, check_stripe_options
from django_payments_sync.backends.stripe.entitlements import StripeEntitlements
from django_payments_sync.backends.stripe.lifecycle import StripeLifecycle
from django_payments_sync.backends.stripe.money import StripeMoney
from django_payments_sync.backends.stripe.webhooks import StripeWebhooks
from django_payments_sync.backends.types import (
    Capability,
    CheckoutData,
    CheckoutSession,
    CustomerData,
    PortalSession,
    PriceData,
    ProductData,
    ProviderCustomer,
    ProviderInvoice,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    ProviderTaxId,
    SubscriptionData,
    TaxIdData,
)
from django_payments_sync.exceptions import (
    PermanentProviderError,
)

#: Stripe lists at most 100 objects a page: the fewest calls for a reconciliation.
PAGE_SIZE = 100


def key_mode(api_key: str) -> str:
    """``"live"`` for a live secret or restricted key (``sk_live_``, ``rk_live_``), else ``"test"``.

    Stripe's account object has no mode: one account has test and live data apart, so the
    key's prefix tells which of the two the credentials reach.
    """
    return "live" if api_key.startswith(("sk_live_", "rk_live_")) else "test"


class StripeBackend(StripeLifecycle, StripeWebhooks, StripeMoney, StripeEntitlements):
    """Stripe through ``stripe.StripeClient``: no global API key, base or version is ever set.

    The API version is the one the installed SDK pins. ``api_base`` points the client at another
    server (the bundled emulator in tests); ``http_client`` takes a ``stripe.HTTPClient`` to use
    instead of the default one (proxies, instrumentation).
    """

    provider_name = "stripe"
    display_name = "Stripe"
    capabilities = frozenset(Capability)
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "api_key": BaseBackend.REQUIRED,
        "webhook_secret": None,
        "api_base": None,
        "timeout": 30.0,
        "max_network_retries": 2,
        "http_client": None,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.client = build_client(self.options)
        self._account_id: str | None = None

    def account_id(self) -> str:
        """``GET /v1/account``'s id and the key's mode, e.g. ``"acct_123:test"``; asked once
        per backend instance (so once per process)."""
        if self._account_id is None:
            with convert.translated_errors():
                account = self.client.v1.accounts.retrieve_current()
            self._account_id = f"{account.id}:{key_mode(str(self.options['api_key']))}"
        return self._account_id

    def default_rate_limit(self) -> float:
        """Stripe's limit for the key's mode: 100 operations a second live, 25 in test mode."""
        return 100.0 if key_mode(str(self.options["api_key"])) == "live" else 25.0

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[CheckMessage]:
        return super().check_options(options) + check_stripe_options(options)

    # --- customers ------------------------------------------------------------------------
    def _customer(self, obj: Any) -> ProviderCustomer:
        from django_payments_sync.backends.stripe.objects import stripe_customer_state

        return stripe_customer_state(convert.as_dict(obj))

    def create_customer(self, data: CustomerData, *, idempotency_key: str) -> ProviderCustomer:
        with convert.translated_errors():
            obj = self.client.v1.customers.create(
                convert.customer_create_params(data), {"idempotency_key": idempotency_key}
            )
        return self._customer(obj)

    def update_customer(
        self,
        customer_id: str,
        data: CustomerData,
        *,
        idempotency_key: str | None = None,
        fields: Collection[str] | None = None,
    ) -> ProviderCustomer:
        with convert.translated_errors():
            obj = self.client.v1.customers.update(
                customer_id,
                convert.customer_update_params(data, fields),
                {"idempotency_key": idempotency_key},
            )
        return self._customer(obj)

    def delete_customer(self, customer_id: str) -> None:
        with convert.translated_errors():
            self.client.v1.customers.delete(customer_id)

    def set_tax_exemption(self, customer_id: str, exemption: str) -> ProviderCustomer:
        with convert.translated_errors():
            obj = self.client.v1.customers.update(
                customer_id, {"tax_exempt": cast(convert.TaxExempt, exemption)}
            )
        return self._customer(obj)

    def _tax_id(self, obj: Any) -> ProviderTaxId:
        from django_payments_sync.backends.stripe.objects import stripe_tax_id_state

        return stripe_tax_id_state(convert.as_dict(obj))

    def add_tax_id(
        self, customer_id: str, data: TaxIdData, *, idempotency_key: str | None = None
    ) -> ProviderTaxId:
        with convert.translated_errors():
            obj = self.client.v1.customers.tax_ids.create(
                customer_id,
                {"type": cast(Any, data.type), "value": data.value},
                {"idempotency_key": idempotency_key},
            )
        return self._tax_id(obj)

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        with convert.translated_errors():
            self.client.v1.customers.tax_ids.delete(customer_id, tax_id)

    def list_tax_ids(self, customer_id: str) -> list[ProviderTaxId]:
        return list(
            convert.paged(
                lambda: self.client.v1.customers.tax_ids.list(customer_id, {"limit": PAGE_SIZE}),
                lambda obj: self._tax_id(obj),
            )
        )

    def list_customers(self, *, with_tax_ids: bool = False) -> Iterator[ProviderCustomer]:
        params: stripe.params.CustomerListParams = {"limit": PAGE_SIZE}
        if with_tax_ids:
            params["expand"] = ["data.tax_ids"]
        return convert.paged(lambda: self.client.v1.customers.list(params), self._customer)

    # --- catalog --------------------------------------------------------------------------
    def _product(self, obj: Any) -> ProviderProduct:
        from django_payments_sync.backends.stripe.objects import stripe_product_state

        return stripe_product_state(convert.as_dict(obj))

    def _price(self, obj: Any) -> ProviderPrice:
        from django_payments_sync.backends.stripe.objects import stripe_price_state

        return stripe_price_state(convert.as_dict(obj))

    def create_product(self, data: ProductData, *, idempotency_key: str) -> ProviderProduct:
        with convert.translated_errors():
            obj = self.client.v1.products.create(
                convert.product_create_params(data), {"idempotency_key": idempotency_key}
            )
        return self._product(obj)

    def update_product(
        self, product_id: str, data: ProductData, *, idempotency_key: str | None = None
    ) -> ProviderProduct:
        with convert.translated_errors():
            obj = self.client.v1.products.update(
                product_id,
                convert.product_update_params(data),
                {"idempotency_key": idempotency_key},
            )
            extra = convert.unset_extra_keys(
                obj.metadata or {}, convert.metadata(data.local_id, data.metadata)
            )
            if extra:
                # Keys removed locally: a second call, only when there are some.
                obj = self.client.v1.products.update(product_id, {"metadata": extra})
        return self._product(obj)

    def archive_product(self, product_id: str) -> ProviderProduct:
        with convert.translated_errors():
            obj = self.client.v1.products.update(product_id, {"active": False})
        return self._product(obj)

    def list_products(self) -> Iterator[ProviderProduct]:
        return convert.paged(
            lambda: self.client.v1.products.list({"limit": PAGE_SIZE}), self._product
        )

    def create_price(self, data: PriceData, *, idempotency_key: str) -> ProviderPrice:
        with convert.translated_errors():
            obj = self.client.v1.prices.create(
                convert.price_create_params(data), {"idempotency_key": idempotency_key}
            )
        return self._price(obj)

    def archive_price(self, price_id: str) -> ProviderPrice:
        with convert.translated_errors():
            obj = self.client.v1.prices.update(price_id, {"active": False})
        return self._price(obj)

    def update_price_metadata(self, price_id: str, data: PriceData) -> ProviderPrice:
        with convert.translated_errors():
            obj = self.client.v1.prices.update(price_id, convert.price_update_params(data))
            extra = convert.unset_extra_keys(
                obj.metadata or {}, convert.metadata(data.local_id, data.metadata)
            )
            if extra:
                obj = self.client.v1.prices.update(price_id, {"metadata": extra})
        return self._price(obj)

    def list_prices(
        self, *, product_id: str | None = None, active: bool | None = None
    ) -> Iterator[ProviderPrice]:
        params: stripe.params.PriceListParams = {"limit": PAGE_SIZE}
        if product_id is not None:
            params["product"] = product_id
        if active is not None:
            params["active"] = active
        return convert.paged(lambda: self.client.v1.prices.list(params), self._price)

    # --- subscriptions --------------------------------------------------------------------
    def _subscription(self, obj: Any) -> ProviderSubscription:
        from django_payments_sync.backends.stripe.objects import stripe_subscription_state

        return stripe_subscription_state(convert.as_dict(obj))

    def create_subscription(
        self, data: SubscriptionData, *, idempotency_key: str
    ) -> ProviderSubscription:
        with convert.translated_errors():
            obj = self.client.v1.subscriptions.create(
                convert.subscription_create_params(data), {"idempotency_key": idempotency_key}
            )
        return self._subscription(obj)

    def update_subscription(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        quantity: int | None = None,
        proration_behavior: str | None = None,
        cancel_at_period_end: bool | None = None,
        idempotency_key: str | None = None,
    ) -> ProviderSubscription:
        params: SubscriptionUpdateParams = {}
        with convert.translated_errors():
            if price_id is not None or quantity is not None:
                # Changing the price means replacing the price of the subscription's one item.
                current = self._subscription(self.client.v1.subscriptions.retrieve(subscription_id))
                item: stripe.params.SubscriptionUpdateParamsItem = {"id": current.item_id}
                if price_id is not None:
                    item["price"] = price_id
                if quantity is not None:
                    item["quantity"] = quantity
                params["items"] = [item]
            if proration_behavior is not None:
                params["proration_behavior"] = cast(
                    Literal["always_invoice", "create_prorations", "none"], proration_behavior
                )
            if cancel_at_period_end is not None:
                params["cancel_at_period_end"] = cancel_at_period_end
            obj = self.client.v1.subscriptions.update(
                subscription_id, params, {"idempotency_key": idempotency_key}
            )
        return self._subscription(obj)

    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = True
    ) -> ProviderSubscription:
        with convert.translated_errors():
            if at_period_end:
                obj = self.client.v1.subscriptions.update(
                    subscription_id, {"cancel_at_period_end": True}
                )
            else:
                obj = self.client.v1.subscriptions.cancel(subscription_id)
        return self._subscription(obj)

    def list_subscriptions(self, customer_id: str | None = None) -> Iterator[ProviderSubscription]:
        params: stripe.params.SubscriptionListParams = {"limit": PAGE_SIZE, "status": "all"}
        if customer_id is not None:
            params["customer"] = customer_id
        return convert.paged(lambda: self.client.v1.subscriptions.list(params), self._subscription)

    # --- checkout, portal, invoices -------------------------------------------------------
    def create_checkout_session(
        self, data: CheckoutData, *, idempotency_key: str
    ) -> CheckoutSession:
        from django_payments_sync.backends.stripe.objects import stripe_checkout_state

        if data.mode not in ("subscription", "payment"):
            raise PermanentProviderError(f"Unknown checkout mode {data.mode!r}.", param="mode")
        params: CheckoutSessionCreateParams = {
            "mode": cast(Literal["payment", "subscription"], data.mode),
            "line_items": [convert.checkout_line(data)],
            "success_url": data.success_url,
            "cancel_url": data.cancel_url,
            "metadata": dict(data.metadata),
        }
        if data.customer_id:
            params["customer"] = data.customer_id
        elif data.customer_email:
            params["customer_email"] = data.customer_email
        if data.client_reference_id:
            params["client_reference_id"] = data.client_reference_id
        if data.promotion_code_id:
            params["discounts"] = [{"promotion_code": data.promotion_code_id}]
        elif data.allow_promotion_codes:
            params["allow_promotion_codes"] = True
        if data.mode == "subscription":
            params["subscription_data"] = {"metadata": dict(data.metadata)}
            if data.trial_period_days:
                params["subscription_data"]["trial_period_days"] = data.trial_period_days
        with convert.translated_errors():
            obj = self.client.v1.checkout.sessions.create(
                params, {"idempotency_key": idempotency_key}
            )
        return stripe_checkout_state(convert.as_dict(obj))

    def create_portal_session(self, customer_id: str, return_url: str) -> PortalSession:
        params: PortalSessionCreateParams = {"customer": customer_id, "return_url": return_url}
        with convert.translated_errors():
            obj = self.client.v1.billing_portal.sessions.create(params)
        return PortalSession(id=obj.id, url=obj.url, customer_id=customer_id, return_url=return_url)

    def list_invoices(self, customer_id: str) -> Iterator[ProviderInvoice]:
        from django_payments_sync.backends.stripe.objects import stripe_invoice_state

        return convert.paged(
            lambda: self.client.v1.invoices.list({"customer": customer_id, "limit": PAGE_SIZE}),
            stripe_invoice_state,
        )
