"""The in-memory backend: customers and their tax ids."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterator
from typing import Any

from django_payments_sync.backends.locmem.state import (
    LocmemState,
    _changed,
)
from django_payments_sync.backends.types import (
    CustomerData,
    EventKind,
    ProviderCustomer,
    ProviderTaxId,
    TaxIdData,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
)


class LocmemCustomers(LocmemState):
    """Customers and their tax ids."""

    # --- customers ------------------------------------------------------------------------
    def _new_customer(self, data: CustomerData) -> ProviderCustomer:
        customer = ProviderCustomer(
            id=self._new_id("cus"),
            email=data.email,
            name=data.name,
            tax_exemption=data.tax_exemption,
            address=data.address,
            metadata=self._with_identity(data.local_id, data.metadata),
            created=dt.datetime.now(dt.UTC),
        )
        self.customers[customer.id] = customer
        self._emit(EventKind.CUSTOMER_CREATED, "customer", customer, customer.id)
        return customer

    def create_customer(self, data: CustomerData, *, idempotency_key: str) -> ProviderCustomer:
        self._record("create_customer", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_customer", data)
        if earlier is not None:
            return self.customers.get(earlier.id, earlier)
        customer = self._new_customer(data)
        self._remember(idempotency_key, "create_customer", data, customer)
        return customer

    def update_customer(
        self,
        customer_id: str,
        data: CustomerData,
        *,
        idempotency_key: str | None = None,
        fields: Collection[str] | None = None,
    ) -> ProviderCustomer:
        self._record(
            "update_customer",
            (customer_id, data),
            {"idempotency_key": idempotency_key, "fields": fields},
        )
        old = self._get(self.customers, customer_id, "customer")
        changes: dict[str, Any] = {
            "email": data.email,
            "name": data.name,
            "tax_exemption": data.tax_exemption,
            "address": data.address,
            # Merged: a customer's other metadata is not ours to remove (see the contract).
            "metadata": {**old.metadata, **self._with_identity(data.local_id, data.metadata)},
        }
        if fields is not None:
            changes = {k: v for k, v in changes.items() if k in fields}
        new = dataclasses.replace(old, **changes)
        self.customers[customer_id] = new
        self._emit(EventKind.CUSTOMER_UPDATED, "customer", new, customer_id, _changed(old, new))
        return new

    def delete_customer(self, customer_id: str) -> None:
        self._record("delete_customer", (customer_id,), {})
        customer = self._get(self.customers, customer_id, "customer")
        del self.customers[customer_id]
        self.deleted_customers.add(customer_id)
        for tax_id in [t for t in self.tax_ids.values() if t.customer_id == customer_id]:
            del self.tax_ids[tax_id.id]
        for sub in [s for s in self.subscriptions.values() if s.customer_id == customer_id]:
            if sub.status != "canceled":
                self._end_subscription(sub)
        self._emit(EventKind.CUSTOMER_DELETED, "customer", customer, customer_id)

    def set_tax_exemption(self, customer_id: str, exemption: str) -> ProviderCustomer:
        self._record("set_tax_exemption", (customer_id, exemption), {})
        if exemption not in ("none", "exempt", "reverse"):
            raise PermanentProviderError(
                f"Invalid tax exemption {exemption!r}.", code="parameter_invalid_string_empty"
            )
        old = self._get(self.customers, customer_id, "customer")
        new = dataclasses.replace(old, tax_exemption=exemption)
        self.customers[customer_id] = new
        self._emit(EventKind.CUSTOMER_UPDATED, "customer", new, customer_id, _changed(old, new))
        return new

    def add_tax_id(
        self, customer_id: str, data: TaxIdData, *, idempotency_key: str | None = None
    ) -> ProviderTaxId:
        self._record("add_tax_id", (customer_id, data), {"idempotency_key": idempotency_key})
        self._get(self.customers, customer_id, "customer")
        earlier = self._idempotent(idempotency_key, "add_tax_id", (customer_id, data))
        if earlier is not None:
            return earlier
        if not data.value or not data.value[:2].isalpha():
            raise PermanentProviderError(
                f"Invalid value for {data.type}.",
                user_message="The tax ID is not valid.",
                code="tax_id_invalid",
                param="value",
            )
        tax_id = ProviderTaxId(
            id=self._new_id("txi"),
            customer_id=customer_id,
            type=data.type,
            value=data.value,
            verification_status="pending",
        )
        self.tax_ids[tax_id.id] = tax_id
        self._remember(idempotency_key, "add_tax_id", (customer_id, data), tax_id)
        self._emit(EventKind.TAX_ID_CREATED, "tax_id", tax_id, customer_id)
        return tax_id

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        self._record("delete_tax_id", (customer_id, tax_id), {})
        found = self._get(self.tax_ids, tax_id, "tax id")
        if found.customer_id != customer_id:
            raise ObjectNotFound(f"No such tax id: {tax_id!r}")
        del self.tax_ids[tax_id]
        self._emit(EventKind.TAX_ID_DELETED, "tax_id", found, customer_id)

    def list_tax_ids(self, customer_id: str) -> list[ProviderTaxId]:
        self._record("list_tax_ids", (customer_id,), {})
        self._get(self.customers, customer_id, "customer")
        return [t for t in self.tax_ids.values() if t.customer_id == customer_id]

    def list_customers(self, *, with_tax_ids: bool = False) -> Iterator[ProviderCustomer]:
        self._record("list_customers", (), {"with_tax_ids": with_tax_ids})
        customers = list(self.customers.values())
        if with_tax_ids:
            customers = [
                dataclasses.replace(
                    c,
                    tax_ids=tuple(
                        (t.type, t.value) for t in self.tax_ids.values() if t.customer_id == c.id
                    ),
                )
                for c in customers
            ]
        return iter(customers)
