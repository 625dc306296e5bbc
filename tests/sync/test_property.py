"""Any sequence of catalog edits, pushed, leaves the provider equal to local data, then idle."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.models import Pricing, Product
from django_payments_sync.sync.push import diff, push_all

pytestmark = pytest.mark.django_db

edit = st.one_of(
    st.tuples(st.just("add_product"), st.text("abcxyz", min_size=1, max_size=5)),
    st.tuples(st.just("rename"), st.integers(0, 5), st.text("abcxyz", min_size=1, max_size=5)),
    st.tuples(st.just("toggle_product"), st.integers(0, 5)),
    st.tuples(st.just("delete_product"), st.integers(0, 5)),
    st.tuples(st.just("add_price"), st.integers(0, 5), st.integers(100, 105)),
    st.tuples(st.just("amount"), st.integers(0, 9), st.integers(100, 105)),
    st.tuples(st.just("nickname"), st.integers(0, 9), st.sampled_from(["", "a", "b"])),
    st.tuples(st.just("toggle_price"), st.integers(0, 9)),
    st.tuples(st.just("interval"), st.integers(0, 9), st.sampled_from(["", "month", "year"])),
    st.tuples(st.just("delete_price"), st.integers(0, 9)),
    st.just(("push",)),
)


def apply(step: tuple[Any, ...]) -> None:
    products = list(Product.objects.order_by("pk"))
    pricings = list(Pricing.objects.order_by("pk"))
    kind = step[0]
    if kind == "add_product":
        Product.objects.create(name=step[1])
    elif kind == "push":
        push_all()
    elif kind in ("rename", "toggle_product", "delete_product", "add_price") and products:
        product = products[step[1] % len(products)]
        if kind == "rename":
            product.name = step[2]
            product.save()
        elif kind == "toggle_product":
            product.active = not product.active
            product.save()
        elif kind == "delete_product":
            product.delete()
        else:
            Pricing.objects.create(
                product=product, amount=step[2], currency="eur", interval="month"
            )
    elif pricings and kind not in ("rename", "toggle_product", "delete_product", "add_price"):
        pricing = pricings[step[1] % len(pricings)]
        if kind == "delete_price":
            pricing.delete()
            return
        if kind == "amount":
            pricing.amount = step[2]
        elif kind == "nickname":
            pricing.nickname = step[2]
        elif kind == "toggle_price":
            pricing.active = not pricing.active
        elif kind == "interval":
            pricing.interval = step[2]
        pricing.save()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(edit, max_size=12))
def test_pushed_edits_converge_and_a_second_push_is_idle(locmem: Any, steps: list[Any]) -> None:
    # The examples share one database: start each from nothing, at both ends.
    Product.objects.all().delete()
    backend = get_backend()
    assert isinstance(backend, LocmemBackend)
    backend.reset()
    # A pushed catalog to start from, so that every edit changes something already out there.
    for name in ("a", "b"):
        product = Product.objects.create(name=name)
        for amount, interval in ((100, "month"), (101, "")):
            Pricing.objects.create(
                product=product, amount=amount, currency="eur", interval=interval
            )
    push_all()
    for step in steps:
        apply(step)  # outside a captured commit: no autosync, only the pushes of the steps
    assert push_all().failures == []
    # A plain push leaves only the provider objects of deleted rows behind (pruning's job).
    existing = {
        "product": {str(pk) for pk in Product.objects.values_list("pk", flat=True)},
        "price": {str(pk) for pk in Pricing.objects.values_list("pk", flat=True)},
    }
    for drift in diff():
        assert drift.kind == "orphan", drift.describe()
        assert drift.local_id not in existing[drift.object_type], drift.describe()
    report = push_all(prune=True)
    assert report.failures == []
    assert diff() == []
    backend.calls.clear()
    push_all(prune=True)
    assert backend.write_calls == []
    # Every local product and price has exactly one active twin at the provider, or none when
    # it is inactive; nothing of ours is active without a local row.
    active_products = [p for p in backend.products.values() if p.active]
    assert len(active_products) == Product.objects.filter(active=True).count()
    active_prices = [p for p in backend.prices.values() if p.active]
    assert len(active_prices) == Pricing.objects.filter(active=True, product__active=True).count()
