"""Whole-catalog push: what ``payments_sync push`` does (the drift report is :mod:`.diff`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.ratelimit import RateLimitedBackend, TokenBucket
from django_payments_sync.backends.types import (
    Capability,
    ProviderCustomer,
    ProviderPrice,
    ProviderProduct,
)
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import ProviderError
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    get_pricing_model,
    get_product_model,
)
from django_payments_sync.sync.catalog import archive_provider_price, sync_product
from django_payments_sync.sync.customers import sync_customer

# The drift report is sync.diff's; its names stay importable from here.
from django_payments_sync.sync.diff import (
    Drift,
    customer_differences,
    diff,
    subscription_differences,
)
from django_payments_sync.sync.entitlements import push_features
from django_payments_sync.sync.meters import linked_meter_ids
from django_payments_sync.sync.pool import run_in_threads
from django_payments_sync.sync.rows import SyncAction, SyncResult, create_link
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    ProductToSynchronizePayments,
    model_label,
    our_local_id,
    remote_customer_state,
)

Progress = Callable[[SyncResult], None]
#: Told, before a part of the push starts, how many rows it checks: ("products", n).
Planned = Callable[[str, int], None]


@dataclass
class PushReport:
    """Every :class:`SyncResult` of one push, with the summary the command prints."""

    results: list[SyncResult] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        counted = Counter(r.action.value for r in self.results)
        return {action.value: counted.get(action.value, 0) for action in SyncAction}

    @property
    def failures(self) -> list[SyncResult]:
        return [r for r in self.results if not r.ok]


def push_all(
    *,
    backend: BaseBackend | None = None,
    dry_run: bool = False,
    prune: bool = False,
    products: bool = True,
    customers: bool = True,
    progress: Progress | None = None,
    recreate_deleted: bool | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    planned: Planned | None = None,
) -> PushReport:
    """Push every product, price and customer whose state differs from what was last pushed.

    Rows whose content hash matches cost no call at all. The provider is listed (in pages) only
    when some row has no provider link yet, to adopt objects created by a push whose answer was
    lost, or with ``prune``: then provider state is compared field by field (drift is repaired)
    and provider objects carrying our identity whose local row is gone are archived (products,
    prices) or deleted (customers). Do not prune an account that another database also pushes to.

    Every provider call takes a token of one bucket of ``rate`` operations a second (default
    ``PUSH["RATE_LIMIT"]``, else the backend's limit for its credentials); products (each with
    its prices, in that order) are pushed by ``concurrency`` threads (default
    ``PUSH["CONCURRENCY"]``; see :func:`~.pool.run_in_threads`). ``planned(kind, rows)`` is
    told how many rows each part (``"products"``: products and prices, ``"customers"``) checks.
    """
    backend = limited_backend(backend or get_backend(), rate)
    if concurrency is None:
        concurrency = int(payments_settings.PUSH["CONCURRENCY"])
    report = PushReport(dry_run=dry_run)

    def record(results: Iterable[SyncResult]) -> None:
        for result in results:
            report.results.append(result)
            if progress is not None:
                progress(result)

    if products:
        if not dry_run and backend.supports(Capability.METERS):
            # Meters first: metered prices name them (and usage is sent to them).
            from django_payments_sync.sync.meters import push_meters

            record(push_meters(backend=backend))
        record(
            push_catalog(
                backend,
                dry_run,
                prune,
                recreate_deleted=recreate_deleted,
                concurrency=concurrency,
                planned=planned,
            )
        )
        if backend.supports(Capability.ENTITLEMENTS):
            record(push_features(backend=backend, dry_run=dry_run))
        if not dry_run:
            # Coupons (which may name products) and their promotion codes; a dry run does not
            # list them.
            from django_payments_sync.sync.coupons import push_discounts

            if backend.supports(Capability.DISCOUNTS):
                record(push_discounts(backend=backend))
    if customers:
        record(_push_customers(backend, dry_run, prune, recreate_deleted, planned))
    return report


def limited_backend(backend: BaseBackend, rate: float | None = None) -> BaseBackend:
    """``backend`` behind a token bucket of ``rate`` (or the configured) operations a second."""
    if rate is None:
        rate = payments_settings.PUSH["RATE_LIMIT"]
    if rate is None:
        rate = backend.default_rate_limit()
    if rate is None or isinstance(backend, RateLimitedBackend):
        return backend
    if rate <= 0:
        raise ValueError(
            f"The push's rate must be a positive number of operations a second, not {rate}."
        )
    return cast(BaseBackend, RateLimitedBackend(backend, TokenBucket(float(rate))))


def push_catalog(
    backend: BaseBackend,
    dry_run: bool,
    prune: bool,
    repair: bool = False,
    recreate_deleted: bool | None = None,
    concurrency: int = 1,
    planned: Planned | None = None,
) -> Iterable[SyncResult]:
    """``repair``: compare with the provider's state and write what drifted; ``prune`` does
    that too and archives provider objects whose local row is gone."""
    repair = repair or prune
    provider = backend.provider_name
    product_model, pricing_model = get_product_model(), get_pricing_model()
    product_label, pricing_label = model_label(product_model), model_label(pricing_model)
    products = list(product_model._default_manager.order_by("pk"))
    pricings: dict[Any, list[Any]] = defaultdict(list)
    for pricing in pricing_model._default_manager.order_by("pk"):
        pricings[pricing.product_id].append(pricing)
    links: dict[str, Any] = {f"product:{p.pk}": None for p in products}
    links.update({f"price:{p.pk}": None for ps in pricings.values() for p in ps})
    if planned is not None:
        planned("products", len(links))
    for product_link in ExternalProduct.objects.filter(provider=provider):
        links[f"product:{product_link.product_id}"] = product_link
    for price_link in ExternalPricing.objects.filter(provider=provider):
        links[f"price:{price_link.pricing_id}"] = price_link

    unlinked_products = any(links[f"product:{p.pk}"] is None for p in products)
    unlinked_prices = any(v is None for k, v in links.items() if k.startswith("price:"))
    remote_products: list[ProviderProduct] | None = None
    remote_prices: list[ProviderPrice] | None = None
    if repair or (unlinked_products and not dry_run):
        remote_products = list(backend.list_products())
    if repair or (unlinked_prices and not dry_run):
        remote_prices = list(backend.list_prices())

    adopt: dict[str, list[Any]] = defaultdict(list)
    for remote in remote_products or []:
        local_id = our_local_id(remote.metadata, product_label)
        if local_id is not None:
            adopt[f"product:{local_id}"].append(remote)
    for remote_price in remote_prices or []:
        local_id = our_local_id(remote_price.metadata, pricing_label)
        if local_id is not None:
            adopt[f"price:{local_id}"].append(remote_price)

    if repair and remote_products is not None and remote_prices is not None:
        _forget_drifted(provider, products, pricings, links, remote_products, remote_prices)

    def push_one(product: Any) -> list[SyncResult]:
        return sync_product(
            product,
            backend=backend,
            dry_run=dry_run,
            pricings=pricings.get(product.pk, []),
            adopt=adopt,
            links=links,
            recreate_deleted=recreate_deleted,
        )

    # A dry run makes no call: nothing to overlap.
    for results in run_in_threads(products, push_one, 1 if dry_run else concurrency):
        yield from results

    if prune and remote_products is not None and remote_prices is not None:
        yield from _archive_orphans(
            backend, dry_run, products, pricings, remote_products, remote_prices
        )


def _forget_drifted(
    provider: str,
    products: list[Any],
    pricings: dict[Any, list[Any]],
    links: dict[str, Any],
    remote_products: list[ProviderProduct],
    remote_prices: list[ProviderPrice],
) -> None:
    """Clear the hash of rows whose provider object differs, so the push writes them again."""
    by_id: dict[str, Any] = {p.id: p for p in remote_products}
    by_id.update({p.id: p for p in remote_prices})
    meter_ids = linked_meter_ids(provider, (p for ps in pricings.values() for p in ps))
    for product in products:
        ext = links.get(f"product:{product.pk}")
        if ext is None:
            continue
        snapshot = ProductToSynchronizePayments.from_product(
            product, pricings.get(product.pk, []), meter_ids
        )
        remote = by_id.get(ext.external_id)
        if remote is None or snapshot.differences(remote):
            ext.content_hash = ""
        for price in snapshot.prices:
            price_ext = links.get(f"price:{price.local_id}")
            remote_price = by_id.get(price_ext.external_id) if price_ext else None
            if price_ext is None:
                continue
            if remote_price is None or not price.matches(remote_price, ext.external_id):
                # Keep the terms half when only the state drifted: an update, not a new price.
                same_terms = remote_price is not None and not (
                    set(price.differences(remote_price)) & set(price.terms())
                )
                price_ext.content_hash = price_ext.content_hash[:32] if same_terms else ""


def _archive_orphans(
    backend: BaseBackend,
    dry_run: bool,
    products: list[Any],
    pricings: dict[Any, list[Any]],
    remote_products: list[ProviderProduct],
    remote_prices: list[ProviderPrice],
) -> Iterable[SyncResult]:
    provider = backend.provider_name
    product_label = model_label(get_product_model())
    pricing_label = model_label(get_pricing_model())
    linked_products = set(
        ExternalProduct.objects.filter(provider=provider).values_list("external_id", flat=True)
    )
    linked_prices = set(
        ExternalPricing.objects.filter(provider=provider).values_list("external_id", flat=True)
    )
    for remote_price in remote_prices:
        local_id = our_local_id(remote_price.metadata, pricing_label)
        if local_id is None or not remote_price.active or remote_price.id in linked_prices:
            continue
        if dry_run:
            yield SyncResult("price", local_id, SyncAction.ARCHIVED, remote_price.id, dry_run=True)
            continue
        try:
            yield archive_provider_price(remote_price.id, backend=backend)
        except ProviderError as exc:
            yield SyncResult("price", local_id, SyncAction.FAILED, remote_price.id, exc)
    for remote in remote_products:
        local_id = our_local_id(remote.metadata, product_label)
        if local_id is None or not remote.active or remote.id in linked_products:
            continue
        if dry_run:
            yield SyncResult("product", local_id, SyncAction.ARCHIVED, remote.id, dry_run=True)
            continue
        try:
            backend.archive_product(remote.id)
        except ProviderError as exc:
            yield SyncResult("product", local_id, SyncAction.FAILED, remote.id, exc)
        else:
            yield SyncResult("product", local_id, SyncAction.ARCHIVED, remote.id)


def _push_customers(
    backend: BaseBackend,
    dry_run: bool,
    prune: bool,
    recreate_deleted: bool | None = None,
    planned: Planned | None = None,
) -> Iterable[SyncResult]:
    provider = backend.provider_name
    label = model_label(Customer)
    customers = list(Customer.objects.select_related("billing_information").order_by("pk"))
    links: dict[Any, Any] = {c.pk: None for c in customers}
    for ext in ExternalCustomer.objects.filter(provider=provider):
        links[ext.customer_id] = ext
    if planned is not None:
        planned("customers", len(customers))
    remote: list[ProviderCustomer] | None = None
    if prune or (not dry_run and any(v is None for v in links.values())):
        remote = list(backend.list_customers())
    by_local: dict[str, ProviderCustomer] = {}
    for remote_customer in remote or []:
        local_id = our_local_id(remote_customer.metadata, label)
        if local_id is not None:
            by_local.setdefault(local_id, remote_customer)

    for customer in customers:
        ext = links[customer.pk]
        found = by_local.get(str(customer.pk))
        email = CustomerSnapshot.from_customer(customer).data.email
        if (
            ext is None
            and found is not None
            and not dry_run
            # Same row number is not enough (another database may share the account).
            and found.email.lower() == email.lower()
        ):
            # A customer created by a push whose answer was lost: link it; the empty hash makes
            # the push below update it and finish its tax ids.
            try:
                ext = create_link(ExternalCustomer, provider, found.id, "", customer=customer)
            except ProviderError as exc:
                yield SyncResult("customer", str(customer.pk), SyncAction.FAILED, found.id, exc)
                continue
        elif prune and ext is not None:
            current = next((r for r in remote or [] if r.id == ext.external_id), None)
            snapshot = CustomerSnapshot.from_customer(customer)
            if current is None or snapshot.differences(current):
                # What the provider holds now: the push sends every field that differs.
                ext.content_hash = ""
                if current is not None:
                    ext.synced_state = {
                        **(ext.synced_state or {}),
                        **remote_customer_state(current),
                        "tax_ids": None,
                    }
        yield sync_customer(
            customer,
            backend=backend,
            dry_run=dry_run,
            link=ext,
            recreate_deleted=recreate_deleted,
        )

    if prune:
        linked = set(
            ExternalCustomer.objects.filter(provider=provider).values_list("external_id", flat=True)
        )
        for remote_customer in remote or []:
            local_id = our_local_id(remote_customer.metadata, label)
            if local_id is None or remote_customer.id in linked:
                continue
            if dry_run:
                yield SyncResult(
                    "customer", local_id, SyncAction.DELETED, remote_customer.id, dry_run=True
                )
                continue
            try:
                backend.delete_customer(remote_customer.id)
            except ProviderError as exc:
                yield SyncResult("customer", local_id, SyncAction.FAILED, remote_customer.id, exc)
            else:
                yield SyncResult("customer", local_id, SyncAction.DELETED, remote_customer.id)


__all__ = [
    "Drift",
    "PushReport",
    "customer_differences",
    "diff",
    "limited_backend",
    "push_all",
    "push_catalog",
    "subscription_differences",
]
