"""The provider contract of the subscription lifecycle (previews, paused collection): a suite
every backend with those capabilities subclasses beside :class:`~.contract.BackendContract`."""

from __future__ import annotations

import datetime as dt

import pytest

from django_payments_sync.backends.base import BaseBackend
from django_payments_sync.backends.types import Capability, SubscriptionData
from django_payments_sync.exceptions import PermanentProviderError, UnsupportedOperation
from django_payments_sync.testing.contract import BackendContract


class LifecycleContract(BackendContract):
    """Previews change nothing and answer the invoice a change would make; pausing keeps the
    status and resuming undoes it. A backend without a capability must refuse clearly."""

    def subscription(self, backend: BaseBackend, quantity: int = 2) -> tuple[str, str, str]:
        customer_id = self.customer(backend, "life")
        product_id = self.product(backend, "life")
        monthly = self.price(backend, product_id, 1000)
        data = SubscriptionData(
            local_id="life",
            customer_id=customer_id,
            price_id=monthly,
            quantity=quantity,
            default_payment_method="pm_card_visa",
        )
        sub = backend.create_subscription(data, idempotency_key="contract-life-sub")
        return sub.id, product_id, monthly

    def test_preview_of_a_change(self, backend: BaseBackend) -> None:
        if not backend.supports(Capability.SUBSCRIPTION_PREVIEW):
            with pytest.raises(UnsupportedOperation):
                backend.preview_subscription_change("sub_x", quantity=2)
            return
        sub_id, product_id, _ = self.subscription(backend)
        before = [s for s in backend.list_subscriptions() if s.id == sub_id]
        upcoming = backend.preview_subscription_change(sub_id, quantity=5)
        assert upcoming.currency == "eur"
        assert upcoming.lines[-1].amount == 5000
        assert not upcoming.lines[-1].proration
        credit, charge = (line for line in upcoming.lines if line.proration)
        assert credit.amount < 0 < charge.amount
        assert upcoming.total == sum(line.amount for line in upcoming.lines)
        assert upcoming.date is not None
        bigger = self.price(backend, product_id, 3000)
        at_once = backend.preview_subscription_change(
            sub_id, price_id=bigger, proration_behavior="always_invoice"
        )
        assert at_once.lines
        assert all(line.proration for line in at_once.lines)
        flat = backend.preview_subscription_change(sub_id, quantity=3, proration_behavior="none")
        assert [line.amount for line in flat.lines] == [3000]
        # Nothing changed.
        assert [s for s in backend.list_subscriptions() if s.id == sub_id] == before

    def test_pause_and_resume_collection(self, backend: BaseBackend) -> None:
        if not backend.supports(Capability.SUBSCRIPTION_PAUSE):
            with pytest.raises(UnsupportedOperation):
                backend.pause_subscription("sub_x", behavior="void")
            return
        sub_id, _, _ = self.subscription(backend)
        later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=60)
        paused = backend.pause_subscription(sub_id, behavior="void", resumes_at=later)
        assert (paused.status, paused.pause_behavior, paused.resumes_at) == (
            "active",
            "void",
            later,
        )
        resumed = backend.resume_subscription(sub_id)
        assert (resumed.status, resumed.pause_behavior, resumed.resumes_at) == ("active", "", None)
        with pytest.raises(PermanentProviderError):
            backend.pause_subscription(sub_id, behavior="forever")
