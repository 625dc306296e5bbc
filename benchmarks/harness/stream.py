"""The webhook event stream: a seeded account history played on the emulator, its events kept."""

# Run under the library's benchmark site (DJANGO_SETTINGS_MODULE=benchmarks.harness.ours.settings)
# with the emulator's URL in BENCH_STRIPE_API_BASE. Local users, customers with billing information
# and a small plan catalog are created and pushed to the emulator by the library itself, as in a
# real deployment; the rest of each customer's life (an update, a tax id, a paid checkout, three
# subscription changes and a cancellation) happens at the provider. The emulator's own events for
# all of that, interleaved across customers, are the stream.

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Events kept per customer, by type: the mix a real account sees (10 per customer).
MIX: dict[str, int] = {
    "customer.created": 1,
    "customer.updated": 1,
    "customer.tax_id.created": 1,
    "checkout.session.completed": 1,
    "customer.subscription.created": 1,
    "customer.subscription.updated": 3,
    "invoice.paid": 1,
    "customer.subscription.deleted": 1,
}
PLANS = [("Starter", 900), ("Pro", 2900), ("Team", 7900)]


def _customer_of(event: dict[str, Any]) -> str | None:
    obj = event["data"]["object"]
    if obj.get("object") == "customer":
        return str(obj["id"])
    customer = obj.get("customer")
    if isinstance(customer, dict):
        return str(customer.get("id"))
    return str(customer) if customer else None


def select_events(events: list[dict[str, Any]], customers: set[str]) -> list[dict[str, Any]]:
    """Keep, in order, each customer's first events of each type of the mix, up to its quota."""
    taken: Counter[tuple[str, str]] = Counter()
    kept = []
    for event in events:
        quota = MIX.get(event["type"])
        customer = _customer_of(event)
        if not quota or customer not in customers:
            continue
        if taken[(customer, event["type"])] < quota:
            taken[(customer, event["type"])] += 1
            kept.append(event)
    return kept


#: What did not work while seeding (the report shows it).
PROBLEMS: list[str] = []


def billing_data(i: int) -> dict[str, str]:
    """Billing information of benchmark customer ``i``: a German address, no VAT number."""
    return {
        "name": f"Bench Customer {i}",
        "email": f"bench{i:04d}@example.com",
        "address_line1": f"{i} Benchmark Street",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }


def _seed_local(n_customers: int) -> tuple[list[Any], dict[str, list[str]]]:
    """Users, customers with billing information and the catalog, pushed by the library."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from django_payments_sync.interactor import billing
    from django_payments_sync.interactor.customers import get_or_create_customer
    from django_payments_sync.models import (
        ExternalPricing,
        get_pricing_model,
        get_product_model,
    )
    from django_payments_sync.sync.catalog import sync_product
    from django_payments_sync.sync.customers import ensure_provider_customer

    product_model, pricing_model = get_product_model(), get_pricing_model()
    prices: dict[str, list[str]] = {}
    for position, (name, amount) in enumerate(PLANS):
        with transaction.atomic():
            product = product_model.objects.create(name=name, position=position)
            monthly = pricing_model.objects.create(
                product=product, amount=amount, currency="eur", interval="month"
            )
            yearly = pricing_model.objects.create(
                product=product, amount=amount * 10, currency="eur", interval="year"
            )
        sync_product(product)
        ids = []
        for pricing in (monthly, yearly):
            ids.append(ExternalPricing.objects.get(pricing=pricing).external_id)
        prices[name] = ids

    user_model = get_user_model()
    customers = []
    problems = PROBLEMS
    for i in range(n_customers):
        user = user_model.objects.create_user(
            username=f"bench{i:04d}", email=f"bench{i:04d}@example.com", password=None
        )
        customer = get_or_create_customer(user)
        if not problems:
            try:
                billing.create_user_billing_info(customer, billing_data(i))
            except Exception as exc:  # reported in the run's output and the report
                problems.append(f"billing information not created: {exc!r}")
        ensure_provider_customer(customer)
        customers.append(customer)
    return customers, prices


def _pay(base: str, session_id: str) -> None:
    """Press "Pay" on the emulator's hosted checkout page (a redirect to success_url follows)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request(
            "POST",
            f"/c/pay/{session_id}/pay",
            body=b"",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        if response.status >= 400:
            raise RuntimeError(f"paying checkout session {session_id}: HTTP {response.status}")
    finally:
        conn.close()


def _list_events(base: str, key: str) -> list[dict[str, Any]]:
    """Every event, exactly as the API serves it (newest first), page by page."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    events: list[dict[str, Any]] = []
    after = ""
    try:
        for _ in range(100_000):
            conn.request(
                "GET",
                "/v1/events?limit=100" + (f"&starting_after={after}" if after else ""),
                headers={"Authorization": f"Bearer {key}"},
            )
            page = json.loads(conn.getresponse().read())
            events.extend(page["data"])
            if not page["has_more"] or not page["data"]:
                break
            after = page["data"][-1]["id"]
    finally:
        conn.close()
    return events


def play(n_customers: int, seed: int) -> dict[str, Any]:
    """Play the account history and return the stream and what it contains."""
    import stripe

    from django_payments_sync.models import ExternalCustomer

    base = os.environ["BENCH_STRIPE_API_BASE"]
    key = os.environ.get("BENCH_STRIPE_KEY", "sk_test_51BenchmarkKey000000000000000000")
    client = stripe.StripeClient(key, base_addresses={"api": base})
    rng = random.Random(seed)
    customers, prices = _seed_local(n_customers)
    ids = [str(ExternalCustomer.objects.get(customer=c).external_id) for c in customers]
    plan_of = {cid: rng.choice(sorted(prices)) for cid in ids}

    def shuffled() -> list[str]:
        order = list(ids)
        rng.shuffle(order)
        return order

    for n, cid in enumerate(shuffled()):
        client.v1.customers.update(cid, {"phone": f"+49 30 {n:07d}"})
    for n, cid in enumerate(shuffled()):
        client.v1.customers.tax_ids.create(cid, {"type": "eu_vat", "value": f"DE{100000000 + n}"})
    subscriptions: dict[str, str] = {}
    for cid in shuffled():
        session = client.v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "customer": cid,
                "line_items": [{"price": prices[plan_of[cid]][0], "quantity": 1}],
                "success_url": "http://127.0.0.1/success",
                "cancel_url": "http://127.0.0.1/cancel",
            }
        )
        _pay(base, session.id)
        paid = client.v1.checkout.sessions.retrieve(session.id)
        subscriptions[cid] = str(paid.subscription)
    changes: list[dict[str, Any]] = [
        {"quantity": 2},
        {"switch": True},
        {"cancel_at_period_end": True},
    ]
    for change in changes:
        for cid in shuffled():
            sub = client.v1.subscriptions.retrieve(subscriptions[cid])
            item = sub["items"]["data"][0]
            params: dict[str, Any] = {"proration_behavior": "none"}
            if "quantity" in change:
                params["items"] = [{"id": item["id"], "quantity": change["quantity"]}]
            elif "switch" in change:
                params["items"] = [{"id": item["id"], "price": prices[plan_of[cid]][1]}]
            else:
                params["cancel_at_period_end"] = True
            client.v1.subscriptions.update(subscriptions[cid], params)
    for cid in shuffled():
        client.v1.subscriptions.cancel(subscriptions[cid])

    events = _list_events(base, key)
    events.reverse()  # the emulator lists newest first
    stream = select_events(events, set(ids))
    return {
        "seed": seed,
        "customers": n_customers,
        "emulator_events": len(events),
        "events": stream,
        "mix": dict(Counter(e["type"] for e in stream)),
        "prices": prices,
        "problems": PROBLEMS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import django

    django.setup()
    result = play(args.customers, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result))
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "events"} | {"kept": len(result["events"])}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
