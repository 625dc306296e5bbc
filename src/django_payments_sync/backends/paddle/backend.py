"""The Paddle Billing backend: the provider contract over ``paddle_billing.Client``."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any, ClassVar

from django.core.checks import CheckMessage
from paddle_billing.Entities.Shared import Status
from paddle_billing.Resources.Addresses.Operations import ListAddresses
from paddle_billing.Resources.Businesses.Operations import (
    CreateBusiness,
    ListBusinesses,
    UpdateBusiness,
)
from paddle_billing.Resources.Customers.Operations import (
    CreateCustomer,
    ListCustomers,
    UpdateCustomer,
)
from paddle_billing.Resources.Prices.Operations import ListPrices
from paddle_billing.Resources.Products.Operations import ListProducts

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.paddle import objects
from django_payments_sync.backends.paddle import params as convert
from django_payments_sync.backends.paddle.billing import PaddleBilling
from django_payments_sync.backends.paddle.client import build_client, check_paddle_options
from django_payments_sync.backends.paddle.webhooks import PaddleWebhooks
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    Address,
    Capability,
    CustomerData,
    PriceData,
    ProductData,
    ProviderCustomer,
    ProviderPrice,
    ProviderProduct,
    ProviderTaxId,
    TaxIdData,
)
from django_payments_sync.exceptions import ObjectNotFound, PermanentProviderError

_BOTH = [Status.Active, Status.Archived]


class PaddleBackend(PaddleBilling, PaddleWebhooks, BaseBackend):
    """Paddle Billing through its official SDK, one ``paddle_billing.Client`` per backend.

    Paddle is the merchant of record: it computes and remits tax itself. The customer's tax
    exemption the library decides is recorded in ``custom_data`` (never applied by Paddle), and
    the VAT number goes to the customer's business (``tax_identifier``), which Paddle checks.
    """

    provider_name = "paddle"
    display_name = "Paddle"
    # What this backend implements, no more: the library (and a host's pages) ask
    # ``supports()`` before offering a feature. Not yet: an invoice preview of a change (issue
    # 16's SUBSCRIPTION_PREVIEW), entitlement features, refunds, off-session charges (PAYMENTS),
    # discounts and usage meters.
    capabilities = frozenset(Capability) - {
        Capability.SUBSCRIPTION_PREVIEW,
        Capability.ENTITLEMENTS,
        Capability.REFUNDS,
        Capability.PAYMENTS,
        Capability.DISCOUNTS,
        # Paddle has no usage meters: no meters, no metered prices.
        Capability.METERS,
    }
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "api_key": BaseBackend.REQUIRED,
        # The destination's secret key, or a list of keys while one is rotated.
        "webhook_secret": None,
        "environment": "sandbox",
        "api_base": None,
        # The account's name for `relink` (Paddle's API names no seller account).
        "account": None,
        "timeout": 30.0,
        "max_retries": 2,
        "retry_backoff": 0.5,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.client = build_client(self.options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[CheckMessage]:
        return super().check_options(options) + check_paddle_options(options)

    @property
    def livemode(self) -> bool:
        return self.options["environment"] == "production" and not self.options["api_base"]

    def account_id(self) -> str:
        """``account`` when set, else the environment (and the server, for ``api_base``):
        Paddle's API has no call that names the seller account."""
        if self.options["account"]:
            return str(self.options["account"])
        base = self.options["api_base"]
        return f"{self.options['environment']}@{base}" if base else self.options["environment"]

    # --- customers ------------------------------------------------------------------------
    def _addresses(self, customer_id: str) -> list[dict[str, Any]]:
        with convert.translated_errors():
            found = self.client.addresses.list(
                customer_id, ListAddresses(pager=convert.pager(), statuses=[Status.Active])
            )
            return [convert.as_dict(a) for a in found]

    def _businesses(self, customer_id: str) -> list[dict[str, Any]]:
        with convert.translated_errors():
            found = self.client.businesses.list(
                customer_id, ListBusinesses(pager=convert.pager(), statuses=[Status.Active])
            )
            return [convert.as_dict(b) for b in found]

    def _get_customer(self, customer_id: str) -> dict[str, Any]:
        convert.check_id(customer_id, "customer")
        with convert.translated_errors():
            return convert.as_dict(self.client.customers.get(customer_id))

    def _customer_state(self, obj: dict[str, Any]) -> ProviderCustomer:
        return objects.customer_state(obj, self._addresses(objects.text(obj.get("id"))))

    def _set_address(self, customer_id: str, address: Address | None) -> None:
        """The customer's one address (Paddle keeps a list): the first active one updated, or
        a new one; ``None`` archives them."""
        current = self._addresses(customer_id)
        with convert.translated_errors():
            if address is None:
                for old in current:
                    self.client.addresses.archive(customer_id, old["id"])
            elif not current:
                self.client.addresses.create(customer_id, convert.address_create(address))
            elif objects.address_of(current[0]) != address:
                self.client.addresses.update(
                    customer_id, current[0]["id"], convert.address_update(address)
                )

    def _find_by_email(self, email: str) -> dict[str, Any] | None:
        with convert.translated_errors():
            found = self.client.customers.list(ListCustomers(emails=[email], statuses=_BOTH))
            return next((convert.as_dict(c) for c in found), None)

    def create_customer(self, data: CustomerData, *, idempotency_key: str) -> ProviderCustomer:
        """Paddle has no idempotency keys, but one customer per email: a second create of
        the same local customer (a retry) finds the first and brings it up to date."""
        wanted = convert.customer_custom_data(data)
        try:
            with convert.translated_errors():
                obj = convert.as_dict(
                    self.client.customers.create(
                        CreateCustomer(
                            email=data.email,
                            name=data.name or None,
                            custom_data=convert.CustomData(wanted),
                        )
                    )
                )
        except PermanentProviderError as exc:
            if exc.code != "customer_already_exists":
                raise
            existing = self._find_by_email(data.email)
            theirs = objects.custom_data(existing or {}).get(METADATA_ID_KEY)
            if existing is None or theirs not in (None, data.local_id):
                raise
            with convert.translated_errors():
                obj = convert.as_dict(
                    self.client.customers.update(
                        existing["id"],
                        UpdateCustomer(
                            name=data.name or None,
                            custom_data=convert.merged_custom_data(
                                objects.custom_data(existing), wanted
                            ),
                            status=Status.Active,
                        ),
                    )
                )
        if data.address is not None:
            self._set_address(obj["id"], data.address)
        return self._customer_state(obj)

    def update_customer(
        self,
        customer_id: str,
        data: CustomerData,
        *,
        idempotency_key: str | None = None,
        fields: Collection[str] | None = None,
    ) -> ProviderCustomer:
        current = self._get_customer(customer_id)
        every = fields is None
        keep = set(fields or ())
        wanted = convert.customer_custom_data(data)
        if not every and "metadata" not in keep:
            wanted = {k: v for k, v in wanted.items() if k == objects.TAX_EXEMPTION_KEY}
        if not every and "tax_exemption" not in keep:
            wanted.pop(objects.TAX_EXEMPTION_KEY, None)
        operation = UpdateCustomer(
            custom_data=convert.merged_custom_data(objects.custom_data(current), wanted)
        )
        if every or "email" in keep:
            operation.email = data.email
        if every or "name" in keep:
            operation.name = data.name or None
        with convert.translated_errors():
            obj = convert.as_dict(self.client.customers.update(customer_id, operation))
        if every or "address" in keep:
            self._set_address(customer_id, data.address)
        return self._customer_state(obj)

    def delete_customer(self, customer_id: str) -> None:
        """Paddle deletes no customer: archived, it is gone from lists and events say so."""
        if not objects.active(self._get_customer(customer_id)):
            raise ObjectNotFound(f"Paddle customer {customer_id} is archived already.")
        with convert.translated_errors():
            self.client.customers.archive(customer_id)

    def set_tax_exemption(self, customer_id: str, exemption: str) -> ProviderCustomer:
        """Recorded in ``custom_data`` only: Paddle, the merchant of record, decides the tax
        (a business with a valid VAT number is reverse-charged by Paddle itself)."""
        current = self._get_customer(customer_id)
        data = convert.merged_custom_data(
            objects.custom_data(current), {objects.TAX_EXEMPTION_KEY: exemption}
        )
        with convert.translated_errors():
            obj = convert.as_dict(
                self.client.customers.update(customer_id, UpdateCustomer(custom_data=data))
            )
        return self._customer_state(obj)

    def add_tax_id(
        self, customer_id: str, data: TaxIdData, *, idempotency_key: str | None = None
    ) -> ProviderTaxId:
        """A business of the customer carrying the number (``tax_identifier``); an active
        business with the same number is reused."""
        value = convert.check_tax_identifier(data.value)
        customer = self._get_customer(customer_id)
        for business in self._businesses(customer_id):
            if objects.text(business.get("tax_identifier")).upper() == value:
                return objects.tax_id_state(business)
        operation = CreateBusiness(
            name=objects.text(customer.get("name")) or objects.text(customer.get("email")),
            tax_identifier=value,
            custom_data=convert.CustomData({objects.TAX_ID_TYPE_KEY: data.type}),
        )
        with convert.translated_errors():
            obj = self.client.businesses.create(customer_id, operation)
        return objects.tax_id_state(convert.as_dict(obj))

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        convert.check_id(tax_id, "business")
        with convert.translated_errors():
            self.client.businesses.update(
                customer_id, tax_id, UpdateBusiness(status=Status.Archived)
            )

    def list_tax_ids(self, customer_id: str) -> list[ProviderTaxId]:
        convert.check_id(customer_id, "customer")
        return [
            objects.tax_id_state(b)
            for b in self._businesses(customer_id)
            if objects.text(b.get("tax_identifier"))
        ]

    def list_customers(self, *, with_tax_ids: bool = False) -> Iterator[ProviderCustomer]:
        """Every active customer (archived ones are deleted ones), with its address: one more
        call per customer (Paddle lists addresses per customer), two ``with_tax_ids``."""
        for obj in convert.paged(
            lambda: self.client.customers.list(
                ListCustomers(pager=convert.pager(), statuses=[Status.Active])
            ),
            lambda o: o,
        ):
            customer_id = objects.text(obj.get("id"))
            businesses = self._businesses(customer_id) if with_tax_ids else None
            yield objects.customer_state(obj, self._addresses(customer_id), businesses)

    # --- catalog --------------------------------------------------------------------------
    def create_product(self, data: ProductData, *, idempotency_key: str) -> ProviderProduct:
        with convert.translated_errors():
            obj = self.client.products.create(convert.product_create(data))
            if not data.active:
                obj = self.client.products.archive(obj.id)
        return objects.product_state(convert.as_dict(obj))

    def update_product(
        self, product_id: str, data: ProductData, *, idempotency_key: str | None = None
    ) -> ProviderProduct:
        convert.check_id(product_id, "product")
        with convert.translated_errors():
            obj = self.client.products.update(product_id, convert.product_update(data))
        return objects.product_state(convert.as_dict(obj))

    def archive_product(self, product_id: str) -> ProviderProduct:
        convert.check_id(product_id, "product")
        with convert.translated_errors():
            obj = self.client.products.archive(product_id)
        return objects.product_state(convert.as_dict(obj))

    def list_products(self) -> Iterator[ProviderProduct]:
        return convert.paged(
            lambda: self.client.products.list(ListProducts(pager=convert.pager(), statuses=_BOTH)),
            objects.product_state,
        )

    def create_price(self, data: PriceData, *, idempotency_key: str) -> ProviderPrice:
        """A new price (Paddle's amounts and cycles can change, the library's do not: a change
        of terms is a new price, the old one archived by the caller)."""
        convert.check_id(data.product_id, "product")
        if data.meter_id is not None:
            raise self._unsupported("metered prices (usage meters)")
        with convert.translated_errors():
            obj = self.client.prices.create(convert.price_create(data))
            if not data.active:
                obj = self.client.prices.archive(obj.id)
        return objects.price_state(convert.as_dict(obj))

    def archive_price(self, price_id: str) -> ProviderPrice:
        convert.check_id(price_id, "price")
        with convert.translated_errors():
            obj = self.client.prices.archive(price_id)
        return objects.price_state(convert.as_dict(obj))

    def update_price_metadata(self, price_id: str, data: PriceData) -> ProviderPrice:
        convert.check_id(price_id, "price")
        with convert.translated_errors():
            obj = self.client.prices.update(price_id, convert.price_update(data))
        return objects.price_state(convert.as_dict(obj))

    def list_prices(
        self, *, product_id: str | None = None, active: bool | None = None
    ) -> Iterator[ProviderPrice]:
        statuses = _BOTH if active is None else [Status.Active if active else Status.Archived]
        operation = ListPrices(
            pager=convert.pager(),
            product_ids=[product_id] if product_id else None,
            statuses=statuses,
        )
        return (
            objects.price_state(obj)
            for obj in convert.paged(lambda: self.client.prices.list(operation), lambda o: o)
            # A subscription's trial copy of a catalog price is no price of the catalog.
            if not objects.is_trial_copy(obj)
        )
