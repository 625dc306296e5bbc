"""The in-memory backend: products and prices."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from django_payments_sync.backends.locmem.state import (
    LocmemState,
    _changed,
)
from django_payments_sync.backends.types import (
    EventKind,
    PriceData,
    ProductData,
    ProviderPrice,
    ProviderProduct,
)
from django_payments_sync.exceptions import (
    PermanentProviderError,
)


class LocmemCatalog(LocmemState):
    """Products and prices."""

    # --- catalog --------------------------------------------------------------------------
    def create_product(self, data: ProductData, *, idempotency_key: str) -> ProviderProduct:
        self._record("create_product", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_product", data)
        if earlier is not None:
            return self.products.get(earlier.id, earlier)
        if not data.name:
            raise PermanentProviderError("Missing required param: name.", param="name")
        product = ProviderProduct(
            id=self._new_id("prod"),
            name=data.name,
            description=data.description,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.products[product.id] = product
        self._remember(idempotency_key, "create_product", data, product)
        self._emit(EventKind.PRODUCT_CREATED, "product", product, None)
        return product

    def update_product(
        self, product_id: str, data: ProductData, *, idempotency_key: str | None = None
    ) -> ProviderProduct:
        self._record("update_product", (product_id, data), {"idempotency_key": idempotency_key})
        old = self._get(self.products, product_id, "product")
        new = dataclasses.replace(
            old,
            name=data.name,
            description=data.description,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.products[product_id] = new
        self._emit(EventKind.PRODUCT_UPDATED, "product", new, None, _changed(old, new))
        return new

    def archive_product(self, product_id: str) -> ProviderProduct:
        self._record("archive_product", (product_id,), {})
        old = self._get(self.products, product_id, "product")
        new = dataclasses.replace(old, active=False)
        self.products[product_id] = new
        self._emit(EventKind.PRODUCT_UPDATED, "product", new, None, _changed(old, new))
        return new

    def list_products(self) -> Iterator[ProviderProduct]:
        self._record("list_products", (), {})
        return iter(list(self.products.values()))

    def create_price(self, data: PriceData, *, idempotency_key: str) -> ProviderPrice:
        self._record("create_price", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_price", data)
        if earlier is not None:
            return self.prices.get(earlier.id, earlier)
        self._get(self.products, data.product_id, "product")
        if data.interval not in (None, "day", "week", "month", "year"):
            raise PermanentProviderError(f"Invalid interval {data.interval!r}.", param="interval")
        if data.meter_id is not None:
            if data.interval is None:
                raise PermanentProviderError(
                    "A metered price must be recurring.", param="recurring[usage_type]"
                )
            meter = self._get(self.meters, data.meter_id, "meter")
            if not meter.active:
                raise PermanentProviderError(
                    f"The meter {meter.id} is inactive.", param="recurring[meter]"
                )
        price = ProviderPrice(
            id=self._new_id("price"),
            product_id=data.product_id,
            amount=data.amount,
            currency=data.currency.lower(),
            interval=data.interval,
            interval_count=data.interval_count,
            active=data.active,
            nickname=data.nickname,
            metadata=self._with_identity(data.local_id, data.metadata),
            meter_id=data.meter_id,
        )
        self.prices[price.id] = price
        self._remember(idempotency_key, "create_price", data, price)
        self._emit(EventKind.PRICE_CREATED, "price", price, None)
        return price

    def archive_price(self, price_id: str) -> ProviderPrice:
        self._record("archive_price", (price_id,), {})
        old = self._get(self.prices, price_id, "price")
        new = dataclasses.replace(old, active=False)
        self.prices[price_id] = new
        self._emit(EventKind.PRICE_UPDATED, "price", new, None, _changed(old, new))
        return new

    def update_price_metadata(self, price_id: str, data: PriceData) -> ProviderPrice:
        self._record("update_price_metadata", (price_id, data), {})
        old = self._get(self.prices, price_id, "price")
        new = dataclasses.replace(
            old,
            nickname=data.nickname,
            active=data.active,
            metadata=self._with_identity(data.local_id, data.metadata),
        )
        self.prices[price_id] = new
        self._emit(EventKind.PRICE_UPDATED, "price", new, None, _changed(old, new))
        return new

    def list_prices(
        self, *, product_id: str | None = None, active: bool | None = None
    ) -> Iterator[ProviderPrice]:
        self._record("list_prices", (), {"product_id": product_id, "active": active})
        return iter(
            [
                p
                for p in self.prices.values()
                if (product_id is None or p.product_id == product_id)
                and (active is None or p.active == active)
            ]
        )
