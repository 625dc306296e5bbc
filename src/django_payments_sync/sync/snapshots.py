"""Snapshots of local rows as the provider should hold them, with their hashes and keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist

from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    METADATA_MODEL_KEY,
    Address,
    CustomerData,
    PriceData,
    ProductData,
    ProviderCustomer,
    ProviderPrice,
    ProviderProduct,
    ProviderSubscription,
    TaxIdData,
)

if TYPE_CHECKING:
    from django.db.models import Model

    from django_payments_sync.models import AbstractPricing, AbstractProduct, Customer

#: Provider tax-id type of the VAT number kept in ``BillingInformation.tax_id``.
EU_VAT = "eu_vat"


def digest(value: Any) -> str:
    """A stable sha256 hex digest of a JSON-able value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def model_label(model: type[Model] | Model) -> str:
    return model._meta.label_lower


def identity_metadata(instance: Model) -> dict[str, str]:
    """The metadata that links a provider object back to ``instance``."""
    return {METADATA_ID_KEY: str(instance.pk), METADATA_MODEL_KEY: model_label(instance)}


def provider_metadata(local: Any) -> dict[str, str]:
    """Local JSON metadata as provider metadata: string values (non-strings as JSON)."""
    if not isinstance(local, dict):
        return {}
    return {
        str(k): v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in local.items()
    }


def idempotency_key(instance: Model, operation: str, content: str) -> str:
    """A key that is the same for the same row, operation and content, and only then.

    The installation id (random, stored once in the database) keeps two databases that share
    one provider account (row 5 of staging, row 5 of a laptop, a demo reset) from receiving
    each other's objects, or an idempotency error, for the same key.
    """
    key = f"{model_label(instance)}-{instance.pk}-{operation}-{content[:24]}"
    return installation_key(key)


def installation_key(name: str) -> str:
    """``payments-sync-<installation id>-<name>``: an idempotency key no other database sends."""
    from django_payments_sync.sync.accounts import installation_id

    return f"payments-sync-{installation_id()}-{name}"


# --- products and prices ------------------------------------------------------------------


@dataclass(frozen=True)
class PriceSnapshot:
    """A local price as the provider should hold it (its product's provider id is added later)."""

    local_id: str
    amount: int
    currency: str
    interval: str | None
    interval_count: int
    active: bool
    nickname: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    #: The provider id of a metered price's meter (:func:`~.meters.meter_external_ids` finds
    #: it, pushing the meter when needed); ``None`` for a licensed or one-time price.
    meter_id: str | None = None
    #: A metered price whose meter is not at the provider (yet): it cannot be pushed.
    meter_missing: bool = False

    def terms(self) -> dict[str, Any]:
        """What a provider cannot change on an existing price: a change means a new price."""
        terms: dict[str, Any] = {
            "amount": self.amount,
            "currency": self.currency,
            "interval": self.interval,
            "interval_count": self.interval_count,
        }
        if self.meter_id is not None:
            # Only for metered prices: the hashes of the others stay as they were.
            terms["meter"] = self.meter_id
        return terms

    def state(self) -> dict[str, Any]:
        """What can be changed on an existing price."""
        return {"active": self.active, "nickname": self.nickname, "metadata": self.metadata}

    def content_hash(self, product_external_id: str) -> str:
        """Two halves in one 64-character column: terms (with the product) then state.

        Keeping them apart tells "replace the price" from "update it" without storing old terms.
        """
        terms = digest({**self.terms(), "product": product_external_id})[:32]
        return terms + digest(self.state())[:32]

    def price_data(self, product_external_id: str) -> PriceData:
        return PriceData(
            local_id=self.local_id,
            product_id=product_external_id,
            amount=self.amount,
            currency=self.currency,
            interval=self.interval,
            interval_count=self.interval_count,
            active=self.active,
            nickname=self.nickname,
            metadata=self.metadata,
            meter_id=self.meter_id,
        )

    def matches(self, remote: ProviderPrice, product_external_id: str) -> bool:
        return remote.product_id == product_external_id and self.differences(remote) == {}

    def differences(self, remote: ProviderPrice) -> dict[str, tuple[Any, Any]]:
        """Field -> (local, provider) for every field that differs."""
        remote_values = {
            "amount": remote.amount,
            "currency": remote.currency,
            "interval": remote.interval,
            "interval_count": remote.interval_count if remote.interval else 1,
            "active": remote.active,
            "nickname": remote.nickname,
            "metadata": remote.metadata,
            "meter": remote.meter_id,
        }
        local_values = {**self.terms(), **self.state()}
        if remote.meter_id is not None:
            local_values.setdefault("meter", None)  # metered there, not here
        return {k: (v, remote_values[k]) for k, v in local_values.items() if remote_values[k] != v}

    @classmethod
    def from_pricing(
        cls,
        pricing: AbstractPricing,
        *,
        product_active: bool,
        meter_ids: Mapping[Any, str] | None = None,
    ) -> PriceSnapshot:
        """``meter_ids`` maps local meter pks to their provider ids (a metered price's)."""
        interval = pricing.interval or None
        meter_pk = pricing.meter_id if interval else None
        meter_id = (meter_ids or {}).get(meter_pk) if meter_pk is not None else None
        return cls(
            meter_id=meter_id,
            meter_missing=meter_pk is not None and meter_id is None,
            local_id=str(pricing.pk),
            amount=int(pricing.amount),
            currency=pricing.currency.lower(),
            interval=interval,
            interval_count=int(pricing.interval_count) if interval else 1,
            # A price of an inactive product must not be sold either.
            active=bool(pricing.active and product_active),
            nickname=pricing.nickname,
            metadata={**provider_metadata(pricing.metadata), **identity_metadata(pricing)},
        )


@dataclass(frozen=True)
class ProductToSynchronizePayments:
    """A local product with its prices, as the provider should hold them."""

    local_id: str
    name: str
    description: str
    active: bool
    metadata: dict[str, str]
    prices: tuple[PriceSnapshot, ...] = ()

    def product_data(self) -> ProductData:
        return ProductData(
            local_id=self.local_id,
            name=self.name,
            description=self.description,
            active=self.active,
            metadata=self.metadata,
        )

    def content_hash(self) -> str:
        return digest(asdict(self.product_data()))

    def differences(self, remote: ProviderProduct) -> dict[str, tuple[Any, Any]]:
        pairs = {
            "name": (self.name, remote.name),
            "description": (self.description, remote.description),
            "active": (self.active, remote.active),
            "metadata": (self.metadata, remote.metadata),
        }
        return {k: v for k, v in pairs.items() if v[0] != v[1]}

    @classmethod
    def from_product(
        cls,
        product: AbstractProduct,
        pricings: list[AbstractPricing] | None = None,
        meter_ids: Mapping[Any, str] | None = None,
    ) -> ProductToSynchronizePayments:
        if pricings is None:
            pricings = list(product.pricings.all())  # type: ignore[attr-defined]
        return cls(
            local_id=str(product.pk),
            name=product.name,
            description=product.description,
            active=bool(product.active),
            metadata={**provider_metadata(product.metadata), **identity_metadata(product)},
            prices=tuple(
                PriceSnapshot.from_pricing(
                    p, product_active=bool(product.active), meter_ids=meter_ids
                )
                for p in pricings
            ),
        )


# --- customers ----------------------------------------------------------------------------


def billing_of(customer: Customer) -> Any:
    """The customer's billing information (as loaded, e.g. by ``select_related``), or ``None``."""
    try:
        return customer.billing_information
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class CustomerSnapshot:
    """A local customer (with its billing information) as the provider should hold it."""

    data: CustomerData
    tax_ids: tuple[TaxIdData, ...] = ()

    def content_hash(self) -> str:
        return digest({"customer": asdict(self.data), "tax_ids": [asdict(t) for t in self.tax_ids]})

    def state(self) -> dict[str, Any]:
        """The mapped fields as JSON, the form ``ExternalCustomer.synced_state`` keeps."""
        d = self.data
        return {
            "email": d.email,
            "name": d.name,
            "address": asdict(d.address) if d.address is not None else None,
            "tax_exemption": d.tax_exemption,
            "metadata": dict(d.metadata),
            "tax_ids": sorted(t.value for t in self.tax_ids),
        }

    def changed_fields(self, synced: dict[str, Any]) -> tuple[str, ...]:
        """The fields whose value differs from what the provider last held (all, if unknown)."""
        state = self.state()
        if not synced:
            return tuple(state)
        return tuple(k for k, v in state.items() if synced.get(k, _MISSING) != v)

    def differences(self, remote: ProviderCustomer) -> dict[str, tuple[Any, Any]]:
        d = self.data
        pairs = {
            "email": (d.email, remote.email),
            "name": (d.name, remote.name),
            "tax_exemption": (d.tax_exemption, remote.tax_exemption),
            "address": (d.address, remote.address),
            # Only our keys: a customer's other metadata (set by other tools) is left alone.
            "metadata": (d.metadata, {k: remote.metadata.get(k) for k in d.metadata}),
        }
        return {k: v for k, v in pairs.items() if v[0] != v[1]}

    @classmethod
    def from_customer(cls, customer: Customer) -> CustomerSnapshot:
        from django_payments_sync.sync.ownership import customer_identity

        billing = billing_of(customer)
        identity = customer_identity(customer, billing)
        if billing is None:
            data = CustomerData(
                local_id=str(customer.pk),
                email=identity["email"],
                name=identity["name"],
                metadata=identity_metadata(customer),
            )
            return cls(data=data)
        data = CustomerData(
            local_id=str(customer.pk),
            email=identity["email"],
            name=identity["name"],
            address=Address(
                line1=billing.address_line1,
                line2=billing.address_line2,
                city=billing.city,
                postal_code=billing.postal_code,
                state=billing.region,
                country=billing.country.upper(),
            ),
            tax_exemption=billing.tax_exemption or "none",
            metadata=identity_metadata(customer),
        )
        tax_ids = (TaxIdData(type=EU_VAT, value=billing.tax_id.replace(" ", "").upper()),)
        return cls(data=data, tax_ids=tax_ids if billing.tax_id else ())


def remote_customer_state(
    remote: ProviderCustomer, tax_ids: list[str] | None = None
) -> dict[str, Any]:
    """A provider customer in the form of :meth:`CustomerSnapshot.state` (our metadata keys)."""
    return {
        "email": remote.email or "",
        "name": remote.name or "",
        "address": asdict(remote.address) if remote.address is not None else None,
        "tax_exemption": remote.tax_exemption or "none",
        "metadata": {
            k: v for k, v in remote.metadata.items() if k in (METADATA_ID_KEY, METADATA_MODEL_KEY)
        },
        **({"tax_ids": sorted(tax_ids)} if tax_ids is not None else {}),
    }


_MISSING = object()


# --- subscriptions -----------------------------------------------------------------------


def subscription_values(state: ProviderSubscription, pricing_id: int | None) -> dict[str, Any]:
    """The local subscription's fields as the provider's state says: what the webhook
    handlers write, what ``diff`` compares and ``reconcile`` applies (an unknown status reads
    as ``incomplete``)."""
    from django_payments_sync.models import SubscriptionStatus

    values: dict[str, Any] = {
        "status": state.status if state.status in SubscriptionStatus.values else "incomplete",
        "quantity": max(state.quantity, 1),
        "current_period_start": state.current_period_start,
        "current_period_end": state.current_period_end,
        "trial_end": state.trial_end,
        "cancel_at_period_end": state.cancel_at_period_end,
        "canceled_at": state.canceled_at,
        "ended_at": state.ended_at,
        "pause_behavior": state.pause_behavior,
        "resumes_at": state.resumes_at if state.pause_behavior else None,
    }
    if pricing_id is not None:
        values["pricing_id"] = pricing_id
    return values


def our_local_id(metadata: dict[str, str], label: str) -> str | None:
    """The local id a provider object mirrors, if it carries our identity for ``label``."""
    if metadata.get(METADATA_MODEL_KEY) == label:
        return metadata.get(METADATA_ID_KEY)
    return None
