"""Reconcile's adoption: linking, or creating, local rows for provider objects made elsewhere."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    METADATA_MODEL_KEY,
    ProviderCustomer,
)
from django_payments_sync.interactor.reconcile.report import Repair, RunState
from django_payments_sync.models import (
    Customer,
    ExternalCustomer,
    ExternalPricing,
)
from django_payments_sync.sync.rows import deletion_of
from django_payments_sync.sync.snapshots import (
    model_label,
    remote_customer_state,
)


class Adoption(RunState):
    """Taking over provider objects that carry no identity of ours (``adopt=True``)."""

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
        from django_payments_sync.models import ExternalMeter

        remote_prices = sorted(self.backend.list_prices(), key=lambda r: r.id)
        # A metered price adopted is metered here too, on the meter linked to its own.
        meters: dict[str, Any] = {}
        if any(p.meter_id for p in remote_prices):
            meters = dict(
                ExternalMeter.objects.filter(provider=self.provider).values_list(
                    "external_id", "meter_id"
                )
            )
        for price in remote_prices:
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
                    meter_id=meters.get(price.meter_id or ""),
                )
                # The terms half of the hash matches: the push updates the price in place (our
                # identity in its metadata), it never replaces it.
                meter_ids = {pricing.meter_id: price.meter_id} if pricing.meter_id else None
                terms = PriceSnapshot.from_pricing(
                    pricing, product_active=True, meter_ids=meter_ids
                ).content_hash(price.product_id)[:32]
                ExternalPricing.objects.create(
                    provider=self.provider,
                    external_id=price.id,
                    pricing_id=pricing.pk,
                    content_hash=terms,
                )

    # --- customers ----------------------------------------------------------------------
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
