"""Repairing drift: make the provider and the local rows agree again, by the ownership rules.

``payments_sync diff`` finds differences; :func:`reconcile` repairs them:

- products and prices (host-owned) that differ are pushed again;
- customers: host-owned fields that differ are pushed; shared fields (email, name) the host has
  not changed since the provider last held them take the provider's value (both local copies),
  the ones it changed are pushed; tax ids are pushed; a provider customer that is gone is
  recorded as deleted (and, as everywhere, not created again unless asked);
- subscriptions (the provider's record) take the provider's state from a fresh read, sending
  the host signals of each change; a subscription of one of our customers that is not known
  locally is created from it.

Reads are one paginated listing per kind; every provider call first takes a token from a
bucket (``RECONCILE["RATE_LIMIT"]`` a second), so a run stays inside the provider's rate limit
beside the rest of the traffic. Progress is checkpointed in ``SyncState`` every
``RECONCILE["CHECKPOINT_EVERY"]`` rows: a run that was killed resumes where it stopped.

``adopt=True`` takes over an account that was filled by other means (dj-stripe, a hand-made
integration): provider customers are linked to local customers by our metadata, then by email,
and a local customer (with its owner, through the adapter) is created for the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    METADATA_MODEL_KEY,
    ProviderCustomer,
    ProviderSubscription,
)
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import ProviderError
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Subscription,
    SyncState,
    SyncStatus,
)
from django_payments_sync.sync import ownership
from django_payments_sync.sync.customers import TAX_ID_REFS, sync_customer, write_customer_identity
from django_payments_sync.sync.push import (
    customer_differences,
    push_catalog,
    subscription_differences,
)
from django_payments_sync.sync.rows import SyncAction, deletion_of, record_deletion
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    billing_of,
    model_label,
    remote_customer_state,
)
from django_payments_sync.sync.subscriptions import provider_subscription_hash

logger = logging.getLogger("django_payments_sync.reconcile")

CHECKPOINT_KEY = "reconcile:checkpoint"
PHASES = ("catalog", "customers", "subscriptions")


# --- the rate limit -----------------------------------------------------------------------
class TokenBucket:
    """At most ``rate`` operations a second on average, in bursts of at most ``capacity``."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("The rate must be positive.")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(1.0, rate))
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def take(self, tokens: float = 1.0) -> float:
        """Take ``tokens``, sleeping until they are there; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= tokens
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            self._sleep(wait)
            self.waited += wait
        return wait


#: Backend attributes that are not provider calls.
_NOT_CALLS = frozenset({"supports", "check_options", "account_id"})


class RateLimitedBackend:
    """A backend whose every provider call takes a token first (a listing: one per page)."""

    def __init__(self, backend: BaseBackend, bucket: TokenBucket, page_size: int = 100) -> None:
        self._backend = backend
        self.bucket = bucket
        self.page_size = page_size
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if name.startswith("_") or name in _NOT_CALLS or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.bucket.take()
            self.calls[name] += 1
            result = value(*args, **kwargs)
            if name.startswith("list_"):
                return self._pages(name, result)
            return result

        return call

    def _pages(self, name: str, items: Iterable[Any]) -> Iterator[Any]:
        for n, item in enumerate(items, start=1):
            if n % self.page_size == 0:
                self.bucket.take()  # the next page's request
                self.calls[name] += 1
            yield item

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


# --- the report ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Repair:
    """One thing reconcile did (or, in a dry run, would do)."""

    object_type: str
    local_id: str | None
    external_id: str | None
    action: str  # pushed | applied | created locally | linked | deleted at the provider | failed
    fields: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        who = f"{self.object_type} {self.local_id or '-'} ({self.external_id or 'no provider id'})"
        what = self.action + (f": {', '.join(self.fields)}" if self.fields else "")
        return f"{who}: {what}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class ReconcileReport:
    dry_run: bool = False
    repairs: list[Repair] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    waited: float = 0.0
    seconds: float = 0.0
    resumed_from: dict[str, Any] | None = None

    @property
    def failures(self) -> list[Repair]:
        return [r for r in self.repairs if r.action == "failed"]

    def summary(self) -> str:
        counted = Counter(r.action for r in self.repairs)
        done = ", ".join(f"{n} {a}" for a, n in sorted(counted.items())) or "nothing to repair"
        rows = ", ".join(f"{n} {kind}" for kind, n in sorted(self.checked.items()))
        prefix = "Dry run, nothing changed: " if self.dry_run else "Reconciled: "
        return (
            f"{prefix}{done}; checked {rows or 'nothing'}; {self.calls} provider calls "
            f"in {self.seconds:.1f} s ({self.waited:.1f} s waiting for the rate limit)."
        )


Progress = Callable[[str, int, int], None]  # (phase, done, total)


# --- the run ------------------------------------------------------------------------------
def reconcile(
    *,
    backend: BaseBackend | None = None,
    dry_run: bool = False,
    adopt: bool = False,
    rate: float | None = None,
    resume: bool = True,
    progress: Progress | None = None,
    recreate_deleted: bool | None = None,
) -> ReconcileReport:
    """Repair every difference ``diff`` reports, by the ownership rules (see the module)."""
    started = time.monotonic()
    config = payments_settings.RECONCILE
    bucket = TokenBucket(float(rate if rate is not None else config["RATE_LIMIT"]))
    limited = RateLimitedBackend(backend or get_backend(), bucket)
    every = max(1, int(config["CHECKPOINT_EVERY"]))
    report = ReconcileReport(dry_run=dry_run)
    checkpoint = load_checkpoint() if resume and not dry_run else None
    report.resumed_from = checkpoint
    start_phase = PHASES.index(checkpoint["phase"]) if checkpoint else 0
    after = int(checkpoint.get("after", 0)) if checkpoint else 0
    run = _Run(limited, report, dry_run, adopt, recreate_deleted, every, progress)
    for phase in PHASES[start_phase:]:
        getattr(run, phase)(after if checkpoint and phase == checkpoint["phase"] else 0)
    if not dry_run:
        clear_checkpoint()
    report.calls = limited.total_calls
    report.waited = bucket.waited
    report.seconds = time.monotonic() - started
    return report


def load_checkpoint() -> dict[str, Any] | None:
    row = SyncState.objects.filter(key=CHECKPOINT_KEY).first()
    if row is None or row.value.get("phase") not in PHASES:
        return None
    return dict(row.value)


def save_checkpoint(phase: str, after: int) -> None:
    SyncState.objects.update_or_create(
        key=CHECKPOINT_KEY,
        defaults={"value": {"phase": phase, "after": after, "at": timezone.now().isoformat()}},
    )


def clear_checkpoint() -> None:
    SyncState.objects.filter(key=CHECKPOINT_KEY).delete()


class _Run:
    def __init__(
        self,
        backend: RateLimitedBackend,
        report: ReconcileReport,
        dry_run: bool,
        adopt: bool,
        recreate_deleted: bool | None,
        every: int,
        progress: Progress | None,
    ) -> None:
        self.backend = backend
        self.provider = backend.provider_name
        self.report = report
        self.dry_run = dry_run
        self.adopt = adopt
        self.recreate_deleted = recreate_deleted
        self.every = every
        self.progress = progress

    def add(self, repair: Repair) -> None:
        self.report.repairs.append(repair)

    def tick(self, phase: str, done: int, total: int, last_pk: int | None) -> None:
        if not self.dry_run and last_pk is not None and done % self.every == 0:
            save_checkpoint(phase, last_pk)
        if self.progress is not None:
            self.progress(phase, done, total)

    # --- products and prices: the host's ------------------------------------------------
    def catalog(self, after: int) -> None:
        backend: Any = self.backend
        if self.adopt:
            self._adopt_catalog()
        for result in push_catalog(
            backend, self.dry_run, prune=False, repair=True, recreate_deleted=self.recreate_deleted
        ):
            self.report.checked[f"{result.object_type}s"] += 1
            if result.action in (SyncAction.UNCHANGED, SyncAction.SKIPPED):
                continue
            action = "failed" if result.action is SyncAction.FAILED else "pushed"
            detail = str(result.error) if result.error else result.action.value
            self.add(
                Repair(result.object_type, result.local_id, result.external_id, action, (), detail)
            )
        if not self.dry_run:
            save_checkpoint("customers", 0)

    def _adopt_catalog(self) -> None:
        """Create and link local products and prices for the provider's active ones that carry
        no identity of ours (made in the dashboard or by another integration). The prices keep
        their provider ids (subscriptions on them stay as they are); the push that follows
        only adds our identity to their metadata."""
        from django_payments_sync.models import (
            ExternalProduct,
            get_pricing_model,
            get_product_model,
        )
        from django_payments_sync.sync.autosync import suppress_autosync
        from django_payments_sync.sync.snapshots import PriceSnapshot

        product_model, pricing_model = get_product_model(), get_pricing_model()
        ours = (METADATA_ID_KEY, METADATA_MODEL_KEY)
        linked_products = dict(
            ExternalProduct.objects.filter(provider=self.provider).values_list(
                "external_id", "product_id"
            )
        )
        linked_prices = set(
            ExternalPricing.objects.filter(provider=self.provider).values_list(
                "external_id", flat=True
            )
        )
        for remote in sorted(self.backend.list_products(), key=lambda r: r.id):
            if (
                remote.id in linked_products
                or not remote.active
                or METADATA_ID_KEY in remote.metadata
            ):
                continue
            self.add(Repair("product", None, remote.id, "created locally", (), remote.name))
            if self.dry_run:
                continue
            with transaction.atomic(), suppress_autosync():
                product = product_model._default_manager.create(
                    name=remote.name,
                    description=remote.description,
                    active=True,
                    metadata={k: v for k, v in remote.metadata.items() if k not in ours},
                )
                ExternalProduct.objects.create(
                    provider=self.provider, external_id=remote.id, product_id=product.pk
                )
            linked_products[remote.id] = product.pk
        for price in sorted(self.backend.list_prices(), key=lambda r: r.id):
            product_id = linked_products.get(price.product_id)
            if (
                price.id in linked_prices
                or not price.active
                or product_id is None
                or METADATA_ID_KEY in price.metadata
            ):
                continue
            self.add(Repair("price", None, price.id, "created locally", (), price.nickname))
            if self.dry_run:
                continue
            with transaction.atomic(), suppress_autosync():
                pricing = pricing_model._default_manager.create(
                    product_id=product_id,
                    amount=price.amount,
                    currency=price.currency.lower(),
                    interval=price.interval or "",
                    interval_count=price.interval_count or 1,
                    nickname=price.nickname,
                    active=True,
                    metadata={k: v for k, v in price.metadata.items() if k not in ours},
                )
                # The terms half of the hash matches: the push updates the price in place (our
                # identity in its metadata), it never replaces it.
                terms = PriceSnapshot.from_pricing(pricing, product_active=True).content_hash(
                    price.product_id
                )[:32]
                ExternalPricing.objects.create(
                    provider=self.provider,
                    external_id=price.id,
                    pricing_id=pricing.pk,
                    content_hash=terms,
                )

    # --- customers ----------------------------------------------------------------------
    def customers(self, after: int) -> None:
        remote = {c.id: c for c in self.backend.list_customers(with_tax_ids=True)}
        links = {e.customer_id: e for e in ExternalCustomer.objects.filter(provider=self.provider)}
        if self.adopt:
            self._adopt_customers(remote, links)
        rows = list(
            Customer.objects.select_related("billing_information")
            .filter(pk__gt=after)
            .order_by("pk")
        )
        for done, customer in enumerate(rows, start=1):
            self.report.checked["customers"] += 1
            try:
                self._customer(customer, links.get(customer.pk), remote)
            except ProviderError as exc:
                self.add(Repair("customer", str(customer.pk), None, "failed", (), str(exc)))
            self.tick("customers", done, len(rows), customer.pk)
        if not self.dry_run:
            save_checkpoint("subscriptions", 0)

    def _customer(
        self, customer: Customer, link: ExternalCustomer | None, remote: dict[str, ProviderCustomer]
    ) -> None:
        local_id = str(customer.pk)
        backend: Any = self.backend
        if link is None:
            # Not at the provider: the host's row is pushed (created), as `push` does.
            result = sync_customer(
                customer,
                backend=backend,
                dry_run=self.dry_run,
                recreate_deleted=self.recreate_deleted,
            )
            if result.action is not SyncAction.UNCHANGED:
                self._pushed("customer", result, ())
            return
        if deletion_of(self.provider, "customer", link.external_id):
            return  # deleted at the provider, on purpose kept locally (diff lists it apart)
        theirs = remote.get(link.external_id)
        if theirs is None:
            # Gone at the provider and no event told: remembered, never silently re-created.
            if not self.dry_run:
                record_deletion(self.provider, "customer", link.external_id)
            self.add(Repair("customer", local_id, link.external_id, "deleted at the provider"))
            result = sync_customer(
                customer,
                backend=backend,
                dry_run=self.dry_run,
                recreate_deleted=self.recreate_deleted,
            )
            if result.action is SyncAction.CREATED:
                self._pushed("customer", result, ())
            return
        synced = dict(link.synced_state or {})
        snapshot = CustomerSnapshot.from_customer(customer)
        differing = customer_differences(snapshot)(theirs)
        if not differing:
            if not self.dry_run and synced != snapshot.state():
                ExternalCustomer.objects.filter(pk=link.pk).update(
                    synced_state={**snapshot.state(), TAX_ID_REFS: synced.get(TAX_ID_REFS, {})},
                    content_hash=snapshot.content_hash(),
                )
            return
        local = snapshot.state()
        applied: list[str] = []
        for name in ownership.fields_owned_by("customer", ownership.Owner.NEWEST):
            if name not in differing:
                continue
            host_edited = name in synced and local[name] != synced[name]
            if not host_edited and (name != "name" or theirs.name):
                applied.append(name)
        pushed = tuple(f for f in differing if f not in applied)
        if applied:
            self.add(Repair("customer", local_id, link.external_id, "applied", tuple(applied)))
        if pushed:
            self.add(Repair("customer", local_id, link.external_id, "pushed", pushed))
        if self.dry_run:
            return
        state = remote_customer_state(
            theirs, [v for _, v in theirs.tax_ids] if theirs.tax_ids is not None else None
        )
        with transaction.atomic():
            if applied:
                write_customer_identity(
                    customer, billing_of(customer), {n: state[n] for n in applied}
                )
                customer.refresh_from_db()
            # What the provider holds now: the push sends exactly the fields that differ.
            ExternalCustomer.objects.filter(pk=link.pk).update(
                synced_state={**state, TAX_ID_REFS: synced.get(TAX_ID_REFS, {})},
                # Not a hash of anything: the push goes ahead, and it knows the tax ids from
                # the listing (no read of its own).
                content_hash="reconcile",
            )
        if pushed:
            result = sync_customer(
                customer, backend=backend, recreate_deleted=self.recreate_deleted
            )
            if not result.ok:
                self.add(
                    Repair(
                        "customer", local_id, link.external_id, "failed", pushed, str(result.error)
                    )
                )
        else:
            link.refresh_from_db()
            snapshot = CustomerSnapshot.from_customer(customer)
            ExternalCustomer.objects.filter(pk=link.pk).update(
                content_hash=snapshot.content_hash(),
                synced_state={**snapshot.state(), TAX_ID_REFS: synced.get(TAX_ID_REFS, {})},
            )
            Customer.objects.filter(pk=customer.pk).update(sync_status=SyncStatus.SYNCED)

    def _pushed(self, object_type: str, result: Any, fields: tuple[str, ...]) -> None:
        if result.action is SyncAction.FAILED:
            self.add(
                Repair(
                    object_type,
                    result.local_id,
                    result.external_id,
                    "failed",
                    fields,
                    str(result.error),
                )
            )
        elif result.action is SyncAction.SKIPPED:
            return
        else:
            self.add(
                Repair(
                    object_type,
                    result.local_id,
                    result.external_id,
                    "pushed",
                    fields,
                    result.action.value,
                )
            )

    def _adopt_customers(
        self, remote: dict[str, ProviderCustomer], links: dict[Any, ExternalCustomer]
    ) -> None:
        """Link (or create) a local customer for each provider customer no row is linked to."""
        from django_payments_sync.conf import get_adapter
        from django_payments_sync.interactor.customers import get_or_create_customer

        label = model_label(Customer)
        linked_ids = {e.external_id for e in links.values()}
        linked_rows = set(links)
        by_email: dict[str, list[Customer]] = {}
        for c in Customer.objects.exclude(pk__in=linked_rows).order_by("pk"):
            by_email.setdefault(c.email.lower(), []).append(c)
        for theirs in sorted(remote.values(), key=lambda c: c.id):
            if theirs.id in linked_ids or deletion_of(self.provider, "customer", theirs.id):
                continue
            customer: Customer | None = None
            how = ""
            local_id = theirs.metadata.get(METADATA_ID_KEY, "")
            if theirs.metadata.get(METADATA_MODEL_KEY, label) == label and local_id.isdigit():
                found = Customer.objects.filter(pk=int(local_id)).first()
                if found is not None and found.pk not in linked_rows:
                    customer, how = found, "linked by metadata"
            if customer is None and theirs.email:
                candidates = [
                    c for c in by_email.get(theirs.email.lower(), []) if c.pk not in linked_rows
                ]
                if len(candidates) == 1:
                    customer, how = candidates[0], "linked by email"
                elif len(candidates) > 1:
                    self.add(
                        Repair(
                            "customer",
                            None,
                            theirs.id,
                            "failed",
                            (),
                            f"{len(candidates)} local customers share {theirs.email}: "
                            "link one by hand",
                        )
                    )
                    continue
            if customer is None:
                if not theirs.email:
                    self.add(
                        Repair(
                            "customer",
                            None,
                            theirs.id,
                            "failed",
                            (),
                            "no email to create a local customer from",
                        )
                    )
                    continue
                how = "created locally"
                if not self.dry_run:
                    adapter = get_adapter()
                    owner = adapter.get_or_create_user(
                        email=adapter.normalize_email(theirs.email), name=theirs.name
                    )
                    customer = get_or_create_customer(owner, created_from="reconcile")
            self.add(Repair("customer", str(customer.pk) if customer else None, theirs.id, how))
            if self.dry_run or customer is None:
                continue
            link = ExternalCustomer.objects.create(
                provider=self.provider,
                external_id=theirs.id,
                customer=customer,
                content_hash="",
                synced_state=remote_customer_state(theirs),
            )
            links[customer.pk] = link
            linked_rows.add(customer.pk)
            linked_ids.add(theirs.id)
            if how == "created locally":
                # The provider's email and name are the new row's.
                Customer.objects.filter(pk=customer.pk).update(
                    email=theirs.email, name=theirs.name or customer.name
                )

    # --- subscriptions: the provider's --------------------------------------------------
    def subscriptions(self, after: int) -> None:
        remote = {s.id: s for s in self.backend.list_subscriptions()}
        customers = dict(
            ExternalCustomer.objects.filter(provider=self.provider).values_list(
                "external_id", "customer_id"
            )
        )
        pricing_of = dict(
            ExternalPricing.objects.filter(provider=self.provider).values_list(
                "external_id", "pricing_id"
            )
        )
        links = {
            e.external_id: e
            for e in ExternalSubscription.objects.filter(provider=self.provider)
            .select_related("subscription__customer")
            .order_by("subscription_id")
        }
        ordered = [e for e in links.values() if e.subscription_id > after]
        for done, link in enumerate(ordered, start=1):
            self.report.checked["subscriptions"] += 1
            sub = link.subscription
            state = remote.get(link.external_id)
            if state is not None:
                found = subscription_differences(sub, state, pricing_of.get(state.price_id))
                if "pricing_id" in found and found["pricing_id"][1] is None:
                    found.pop("pricing_id")  # a price that is not ours: kept, reported by diff
                if found:
                    self.add(
                        Repair(
                            "subscription", str(sub.pk), link.external_id, "applied", tuple(found)
                        )
                    )
                    if not self.dry_run:
                        self._apply_subscription(sub, link, state, pricing_of.get(state.price_id))
            self.tick("subscriptions", done, len(ordered), link.subscription_id)
        # Subscriptions of our customers that no local row knows (a lost created event).
        for state in sorted(remote.values(), key=lambda s: s.id):
            if state.id in links or state.customer_id not in customers:
                continue
            pricing_id = pricing_of.get(state.price_id)
            if pricing_id is None:
                self.add(
                    Repair(
                        "subscription",
                        None,
                        state.id,
                        "failed",
                        (),
                        f"price {state.price_id} is not ours",
                    )
                )
                continue
            self.add(Repair("subscription", None, state.id, "created locally"))
            if self.dry_run:
                continue
            self._create_subscription(state, customers[state.customer_id], pricing_id)

    def _apply_subscription(
        self,
        sub: Subscription,
        link: ExternalSubscription,
        state: ProviderSubscription,
        pricing_id: int | None,
    ) -> None:
        from django_payments_sync.sync.snapshots import subscription_values
        from django_payments_sync.webhooks.handlers.subscriptions import (
            SUBSCRIPTION_FIELDS,
            send_subscription_signals,
        )

        previous = {f: getattr(sub, f) for f in SUBSCRIPTION_FIELDS}
        values = subscription_values(state, pricing_id)
        with transaction.atomic():
            # Queryset updates: the provider holds this state already, nothing is pushed back.
            Subscription.objects.filter(pk=sub.pk).update(
                **values, sync_status=SyncStatus.SYNCED, updated_at=timezone.now()
            )
            ExternalSubscription.objects.filter(pk=link.pk).update(
                content_hash=provider_subscription_hash(state), updated_at=timezone.now()
            )
            for name, value in values.items():
                setattr(sub, name, value)
            send_subscription_signals(sub, previous, created=False)

    def _create_subscription(
        self, state: ProviderSubscription, customer_id: int, pricing_id: int
    ) -> None:
        from django_payments_sync.sync.autosync import suppress_autosync
        from django_payments_sync.sync.snapshots import subscription_values
        from django_payments_sync.webhooks.handlers.subscriptions import send_subscription_signals

        with transaction.atomic(), suppress_autosync():
            sub = Subscription.objects.create(
                customer_id=customer_id,
                sync_status=SyncStatus.SYNCED,
                **subscription_values(state, pricing_id),
            )
            ExternalSubscription.objects.create(
                provider=self.provider,
                external_id=state.id,
                subscription=sub,
                content_hash=provider_subscription_hash(state),
            )
            send_subscription_signals(sub, None, created=True)
