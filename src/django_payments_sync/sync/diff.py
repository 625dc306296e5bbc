"""The drift report: what ``payments_sync diff`` shows, comparing exactly what a push sends
and what the webhook handlers write with the provider's state."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import (
    ProviderCustomer,
    ProviderPrice,
    ProviderSubscription,
)
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    ProviderDeletion,
    get_pricing_model,
    get_product_model,
)
from django_payments_sync.sync.meters import linked_meter_ids
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    PriceSnapshot,
    ProductToSynchronizePayments,
    model_label,
    our_local_id,
)


@dataclass(frozen=True)
class Drift:
    """One difference between a local row and the provider."""

    object_type: str
    local_id: str | None
    external_id: str | None
    #: "missing" (not at the provider), "differs", "orphan" (at the provider, local row gone),
    #: "unlinked" (at the provider, not known locally) or "deleted" (deleted at the provider and
    #: kept locally on purpose: reported, not counted as drift).
    kind: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def is_drift(self) -> bool:
        return self.kind != "deleted"

    def describe(self) -> str:
        who = f"{self.object_type} {self.local_id or '-'} ({self.external_id or 'no provider id'})"
        if self.kind == "missing":
            return f"{who}: not at the provider"
        if self.kind == "orphan":
            return f"{who}: at the provider, but the local row is gone"
        if self.kind == "unlinked":
            return f"{who}: at the provider, not known locally"
        if self.kind == "deleted":
            return f"{who}: deleted at the provider, kept locally (push --recreate-deleted)"
        changes = ", ".join(
            f"{k}: local {a!r} != provider {b!r}" for k, (a, b) in self.fields.items()
        )
        return f"{who}: {changes}"


def diff(*, backend: BaseBackend | None = None, subscriptions: bool = True) -> list[Drift]:
    """Differences between what a push sends (and handlers write) and what the provider holds.

    Read with one paginated listing each of products, prices, customers (with their tax ids)
    and subscriptions; no call per row.
    """
    backend = backend or get_backend()
    provider = backend.provider_name
    product_model, pricing_model = get_product_model(), get_pricing_model()
    remote_products = {p.id: p for p in backend.list_products()}
    remote_prices = {p.id: p for p in backend.list_prices()}
    remote_customers = {c.id: c for c in backend.list_customers(with_tax_ids=True)}
    ext_products = {e.product_id: e for e in ExternalProduct.objects.filter(provider=provider)}
    ext_prices = {e.pricing_id: e for e in ExternalPricing.objects.filter(provider=provider)}
    ext_customers = {e.customer_id: e for e in ExternalCustomer.objects.filter(provider=provider)}
    deleted = set(
        ProviderDeletion.objects.filter(provider=provider, object_type="customer").values_list(
            "external_id", flat=True
        )
    )
    drifts: list[Drift] = []

    pricings: dict[Any, list[Any]] = defaultdict(list)
    for pricing in pricing_model._default_manager.order_by("pk"):
        pricings[pricing.product_id].append(pricing)
    meter_ids = linked_meter_ids(provider, (p for ps in pricings.values() for p in ps))
    for product in product_model._default_manager.order_by("pk"):
        snapshot = ProductToSynchronizePayments.from_product(
            product, pricings.get(product.pk, []), meter_ids
        )
        ext = ext_products.get(product.pk)
        drifts += _compare("product", product, ext, remote_products, snapshot.differences)
        for price, pricing in zip(snapshot.prices, pricings.get(product.pk, []), strict=True):
            drifts += _compare(
                "price", pricing, ext_prices.get(pricing.pk), remote_prices, _price_diff(price, ext)
            )
    for customer in Customer.objects.select_related("billing_information").order_by("pk"):
        link = ext_customers.get(customer.pk)
        if link is not None and link.external_id in deleted:
            drifts.append(Drift("customer", str(customer.pk), link.external_id, "deleted"))
            continue
        snap = CustomerSnapshot.from_customer(customer)
        drifts += _compare("customer", customer, link, remote_customers, customer_differences(snap))

    linked = {
        e.external_id
        for e in [*ext_products.values(), *ext_prices.values(), *ext_customers.values()]
    }
    for object_type, label, objects in (
        ("product", model_label(product_model), remote_products.values()),
        ("price", model_label(pricing_model), remote_prices.values()),
        ("customer", model_label(Customer), remote_customers.values()),
    ):
        for obj in objects:
            local_id = our_local_id(obj.metadata, label)
            active = getattr(obj, "active", True)
            if local_id is not None and active and obj.id not in linked:
                drifts.append(Drift(object_type, local_id, obj.id, "orphan"))
    if subscriptions:
        drifts += _subscription_drift(backend, ext_customers.values(), ext_prices.values())
    return drifts


def customer_differences(
    snapshot: CustomerSnapshot,
) -> Callable[[ProviderCustomer], dict[str, Any]]:
    """What differs between a push's snapshot and a provider customer, its tax ids included
    when the read carried them."""

    def compare(remote: ProviderCustomer) -> dict[str, Any]:
        found = snapshot.differences(remote)
        if remote.tax_ids is not None:
            ours = sorted((t.type, t.value) for t in snapshot.tax_ids)
            theirs = sorted(remote.tax_ids)
            if ours != theirs:
                found["tax_ids"] = (ours, theirs)
        return found

    return compare


def subscription_differences(
    subscription: Any, remote: ProviderSubscription, pricing_id: int | None
) -> dict[str, tuple[Any, Any]]:
    """Field -> (local, provider) where the local subscription is not what handlers would
    write from ``remote`` (a price that is not ours compares as ``None``)."""
    from django_payments_sync.sync.snapshots import subscription_values

    wanted = subscription_values(remote, pricing_id)
    wanted.setdefault("pricing_id", None)
    found: dict[str, tuple[Any, Any]] = {}
    for name, value in wanted.items():
        ours = getattr(subscription, name)
        if isinstance(ours, dt.datetime) and isinstance(value, dt.datetime):
            same = int(ours.timestamp()) == int(value.timestamp())
        else:
            same = ours == value
        if not same:
            found[name] = (ours, value)
    return found


def _subscription_drift(
    backend: BaseBackend, customer_links: Iterable[Any], price_links: Iterable[Any]
) -> list[Drift]:
    provider = backend.provider_name
    ours = {link.external_id for link in customer_links}
    pricing_of = {link.external_id: link.pricing_id for link in price_links}
    links = {
        e.external_id: e
        for e in ExternalSubscription.objects.filter(provider=provider).select_related(
            "subscription"
        )
    }
    remote = {s.id: s for s in backend.list_subscriptions()}
    drifts: list[Drift] = []
    for external_id, link in sorted(links.items(), key=lambda kv: kv[1].subscription_id):
        sub = link.subscription
        state = remote.get(external_id)
        if state is None:
            drifts.append(Drift("subscription", str(sub.pk), external_id, "missing"))
            continue
        found = subscription_differences(sub, state, pricing_of.get(state.price_id))
        if found:
            drifts.append(Drift("subscription", str(sub.pk), external_id, "differs", found))
    for state in remote.values():
        if state.id not in links and state.customer_id in ours:
            drifts.append(Drift("subscription", None, state.id, "unlinked"))
    return drifts


def _price_diff(price: PriceSnapshot, product_ext: Any) -> Callable[[Any], dict[str, Any]]:
    def compare(remote: ProviderPrice) -> dict[str, Any]:
        found = price.differences(remote)
        if product_ext is not None and remote.product_id != product_ext.external_id:
            found["product"] = (product_ext.external_id, remote.product_id)
        return found

    return compare


def _compare(
    object_type: str,
    row: Any,
    ext: Any,
    remote: dict[str, Any],
    differences: Callable[[Any], dict[str, Any]],
) -> list[Drift]:
    local_id = str(row.pk)
    if ext is None or ext.external_id not in remote:
        return [Drift(object_type, local_id, ext and ext.external_id, "missing")]
    found = differences(remote[ext.external_id])
    if found:
        return [Drift(object_type, local_id, ext.external_id, "differs", found)]
    return []
