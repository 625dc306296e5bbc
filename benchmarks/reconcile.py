"""Benchmark of `payments_sync reconcile` against the Stripe emulator: 1,000 customers, drift on
10% of them, under a rate limit of 25 operations a second (Stripe's test-mode limit).

The drift, made the way it happens (in the dashboard through the emulator's API, or locally
without a push): addresses edited in the dashboard (host-owned: pushed back), emails edited in
the dashboard whose event was lost (shared, host unchanged: applied locally), names changed
locally without a push (pushed), VAT tax ids deleted in the dashboard (re-added). Measured: the
provider calls by method, the wall time and the time spent waiting for the rate limit, of the
repairing run, of a second run with nothing left to repair, and of a run killed halfway and
resumed from its checkpoint; then `diff` must be clean.

Run from the repository root:

    PYTHONPATH=.:src .venv/bin/python benchmarks/reconcile.py
    PYTHONPATH=.:src .venv/bin/python benchmarks/reconcile.py --customers 200 --rate 100
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from catalog_sync import CountingHTTPClient


class Interrupted(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--drift", type=float, default=0.10, help="share of customers drifted")
    parser.add_argument("--rate", type=float, default=25.0, help="provider operations a second")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from django_payments_sync.interactor.reconcile import load_checkpoint, reconcile
    from django_payments_sync.models import BillingInformation, Customer, ExternalCustomer
    from django_payments_sync.sync.push import diff, push_all
    from django_payments_sync.testing.stripe_emulator import StripeEmulator
    from tests.factories import BillingInformationFactory, UserFactory

    call_command("migrate", verbosity=0, run_syncdb=True)
    rng = random.Random(args.seed)

    with StripeEmulator() as emulator:
        client = CountingHTTPClient(timeout=30)
        options = {
            "api_key": "sk_test_benchmark",
            "api_base": emulator.url,
            "max_network_retries": 0,
            "http_client": client,
        }
        dashboard: Any = emulator.client()
        with override_settings(
            PAYMENTS_SYNC={**settings.PAYMENTS_SYNC, "OPTIONS": options, "AUTO_SYNC": False}
        ):
            for i in range(args.customers):
                user = UserFactory(username=f"rec{i}", email=f"rec{i}@example.com")
                customer = Customer.objects.filter(owner=user).first() or Customer.objects.create(
                    owner=user, email=user.email, name=f"Customer {i}"
                )
                if i % 2 == 0:
                    BillingInformationFactory(
                        customer=customer,
                        email=f"billing{i}@example.com",
                        name=f"Company {i}",
                        tax_id="DE123456789" if i % 4 == 0 else "",
                    )
            started = time.perf_counter()
            report = push_all(products=False, rate=1e9)  # set-up: no rate budget
            assert not report.failures, report.failures[:3]
            print(
                f"{args.customers} customers pushed in {time.perf_counter() - started:.1f} s "
                f"({sum(client.counts.values())} calls); emulator at {emulator.url}\n"
            )

            links = dict(ExternalCustomer.objects.values_list("customer_id", "external_id"))
            with_billing = list(
                BillingInformation.objects.values_list("customer_id", flat=True).order_by("pk")
            )
            with_vat = list(
                BillingInformation.objects.exclude(tax_id="")
                .values_list("customer_id", flat=True)
                .order_by("pk")
            )
            drifted = rng.sample(sorted(links), int(args.customers * args.drift))
            kinds = {"address": 0, "email": 0, "local name": 0, "tax id": 0}
            for n, pk in enumerate(drifted):
                cus = links[pk]
                kind = ("address", "email", "local name", "tax id")[n % 4]
                if kind in ("address", "tax id") and pk not in with_billing:
                    kind = "email"
                if kind == "tax id" and pk not in with_vat:
                    kind = "address"
                if kind == "address":
                    dashboard.v1.customers.update(cus, {"address": {"line1": f"Dashboard {n}"}})
                elif kind == "email":
                    dashboard.v1.customers.update(cus, {"email": f"dashboard{n}@example.com"})
                elif kind == "local name":
                    Customer.objects.filter(pk=pk).update(name=f"Renamed {n}")
                    BillingInformation.objects.filter(customer_id=pk).update(name=f"Renamed {n}")
                else:
                    for tax_id in dashboard.v1.customers.tax_ids.list(cus).data:
                        dashboard.v1.customers.tax_ids.delete(cus, tax_id.id)
                kinds[kind] += 1
            before = [d for d in diff(subscriptions=False) if d.is_drift]
            print(f"drift on {len(drifted)} customers: {kinds}; diff finds {len(before)}\n")

            def run(label: str, **kwargs: Any) -> Any:
                client.counts.clear()
                started = time.perf_counter()
                outcome = reconcile(rate=args.rate, **kwargs)
                seconds = time.perf_counter() - started
                counts = dict(client.counts)
                print(
                    f"{label:<32} {sum(counts.values()):>5} calls "
                    f"({counts.get('GET', 0)} reads, {counts.get('POST', 0)} writes, "
                    f"{counts.get('DELETE', 0)} deletes)  {seconds:6.1f} s "
                    f"({outcome.waited:5.1f} s waiting)  {len(outcome.repairs)} repairs"
                )
                return outcome, counts, seconds

            first, counts, seconds = run("reconcile (10% drift)")
            assert not first.failures, first.failures[:3]
            after = [d for d in diff(subscriptions=False) if d.is_drift]
            second, counts2, _ = run("reconcile again (nothing left)")

            # A run killed halfway through the customers, then resumed from its checkpoint.
            for pk in rng.sample(sorted(links), 20):
                Customer.objects.filter(pk=pk).update(name=f"Later {pk}")
                BillingInformation.objects.filter(customer_id=pk).update(name=f"Later {pk}")
            half = args.customers // 2

            def stop_halfway(phase: str, done: int, total: int) -> None:
                if phase == "customers" and done == half:
                    raise Interrupted

            client.counts.clear()
            with contextlib.suppress(Interrupted):
                reconcile(rate=args.rate, progress=stop_halfway)
            killed_calls = sum(client.counts.values())
            checkpoint = load_checkpoint()
            resumed, counts3, _ = run("resumed after a kill at 50%")
            final = [d for d in diff(subscriptions=False) if d.is_drift]

    print(
        f"\nkilled run: {killed_calls} calls before the kill at customer {half}, checkpoint "
        f"after row {checkpoint and checkpoint['after']}; the resumed run made "
        f"{sum(counts3.values())} calls for {len(resumed.repairs)} repairs"
    )
    budget = sum(counts.values()) / args.rate
    print(
        f"\nReconcile of {args.customers} customers with {len(drifted)} drifted: "
        f"{sum(counts.values())} provider calls, {seconds:.1f} s at {args.rate:g} operations/s "
        f"(the calls alone need {budget:.1f} s of the budget); diff after: {len(after)} "
        f"differences; a second run {sum(counts2.values())} calls; after the resumed run "
        f"{len(final)} differences."
    )
    ok = not after and not final and not [r for r in second.repairs]
    print(f"Goal (diff clean, a second run repairs nothing): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
