"""One reconcile run: the catalog, the customers and the subscriptions, in that order."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.ratelimit import RateLimitedBackend, TokenBucket
from django_payments_sync.backends.types import (
    ProviderCustomer,
    ProviderSubscription,
)
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import ProviderError
from django_payments_sync.interactor.reconcile.adopt import Adoption
from django_payments_sync.interactor.reconcile.report import (
    PHASES,
    Progress,
    ReconcileReport,
    Repair,
    clear_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalSubscription,
    Subscription,
    SyncStatus,
)
from django_payments_sync.sync import ownership
from django_payments_sync.sync.customers import TAX_ID_REFS, sync_customer, write_customer_identity
from django_payments_sync.sync.diff import customer_differences, subscription_differences
from django_payments_sync.sync.push import push_catalog
from django_payments_sync.sync.rows import SyncAction, deletion_of, record_deletion
from django_payments_sync.sync.snapshots import (
    CustomerSnapshot,
    billing_of,
    remote_customer_state,
)
from django_payments_sync.sync.subscriptions import provider_subscription_hash


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


class _Run(Adoption):
    """One run: the three phases in order, each resumable from its checkpoint."""

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
