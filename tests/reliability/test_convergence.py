"""A convergence storm on PostgreSQL: host-side and provider-side edits of the same customers,
deletions at the provider, webhooks duplicated, shuffled, deletions delivered first, four
gunicorn workers of which one is SIGKILLed mid-transaction; then every mapped field is compared.

What happens, per seed (``PAYMENTS_SYNC_STORM_SEEDS``: ``5`` for five seeds, or ``4,8,15``):

1. **Set-up (host).** 36 customers are created locally with ``AUTO_SYNC`` on (each is pushed
   after commit): 12 with an EU VAT number saved through the billing API while VIES is down
   (status ``unavailable``, VAT charged) -- 6 whose number the emulator verifies (its
   ``customer.tax_id.updated`` turns them valid in a worker, which pushes the customer) and 6
   whose number it reports ``unavailable`` (only the host's ``vat recheck`` turns them valid);
   12 with billing information and no VAT number (France, United States); 8 without billing
   information; 4 whose creating push times out after the provider created the customer (the
   answer is lost: no local link, the customer exists at the provider with our metadata).
2. **Dashboard (provider), at least one wall-clock second later.** Through the emulator's API,
   as a dashboard or a support agent would: email and name changes, address edits,
   ``tax_exempt`` edits, a VAT tax id deleted and one added, subscriptions (trials, plan and
   quantity changes, cancel at period end and its undo, immediate cancels), a product renamed
   and a price's nickname changed, and 9 customers deleted (a quarter; 3 of them the unlinked
   ones). Deliveries are paused and every event is queued twice.
3. **Storm, at least one second later.** The ``customer.deleted`` events are posted first
   (before any ``customer.created``); then four delivery threads send the queue shuffled to
   four gunicorn workers (``AUTO_SYNC`` on there too), a thread re-posts already delivered
   events, and meanwhile the host edits: billing names, emails and addresses through the
   REST API (PATCH, and PUT creating billing information), admin-style saves of customers
   (some changing nothing, some renaming), of a product, a price and subscriptions (changing
   nothing), VIES coming back and ``payments_sync vat recheck --force`` turning the pending
   numbers valid, edits of customers deleted at the provider. Mid-storm the subscriptions
   table is locked until the workers block inside their transactions and one of them is
   SIGKILLed. Then the emulator's clock moves 35 days (renewals, trial ends, cancellations).
4. Deliveries settle; ``payments_sync events process`` (as cron would) applies what the killed
   worker left; ``payments_sync diff`` must report exactly the drift there is (host-owned
   fields edited at the provider, not repaired yet) and no false drift; a final
   ``payments_sync push`` and ``payments_sync reconcile`` (what cron runs) and their webhooks;
   then the comparison.

How the expected value of each field is derived (the rules of docs/sync.md, "Who owns which
field"):

- **Email and name** (both sides may edit; the newest change wins). Every change that decides
  what the provider should hold is recorded with its wall-clock time: the set-up values (host),
  each dashboard edit (provider), each host edit of the billing name/email (PATCH, PUT) or of
  a customer without billing information (admin save). The phases are separated by sleeping
  past the next full second, so that the provider's 1 s event times and the host's change
  times order them the same way as they happened; the emulator's clock is moved only after
  the last edit on either side. The expected value is the newest change's. When it is a
  dashboard edit, both local copies (``Customer`` and ``BillingInformation``) must hold it;
  when it is a host edit of the billing information, the billing copy must (what the
  ``Customer`` copy then holds is not pushed and is not compared).
- **Address, tax exemption, our metadata, the EU VAT tax id** (host): the host's last value
  (the tax exemption from the final VAT status: reverse charge for a valid number in another
  member state, exempt outside the EU, VAT charged otherwise), locally and at the provider.
- **Products and prices** (host): the local rows, at the provider.
- **Subscriptions** (provider): local equals the emulator for status, price, quantity, period,
  trial end, cancellation and end; price and quantity also equal what the dashboard set last
  (a push that sent a stale local state back would change them).
- **Deletions stick**: a customer deleted at the provider has a ``ProviderDeletion``, no link,
  stays locally with ``sync_status`` failed and a ``sync_error`` naming the deletion, and no
  live provider customer carries its id; every other customer has exactly one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient
from stdnum.eu import vat as eu_vat

from django_payments_sync.models import (
    BillingInformation,
    Customer,
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    Pricing,
    Product,
    ProviderDeletion,
    Subscription,
    WebhookEvent,
)
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from django_payments_sync.testing.vies_fixtures import TEST_TIMEOUT
from tests.backends.helpers import emulator_options
from tests.billing.conftest import BILLING_URL
from tests.factories import PricingFactory, ProductFactory, UserFactory
from tests.reliability.conftest import payments_sync, remote
from tests.reliability.servers import WEBHOOK_PATH, children, dsn, free_port, gunicorn, kill

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DAY = 86_400
WORKERS = 4
DELIVERY_THREADS = 4
SUBSCRIPTION_TABLE = Subscription._meta.db_table
CUSTOMER_LABEL = Customer._meta.label_lower
EU_NON_SELLER = {"BE", "HR", "FR"}


def _seeds() -> list[int]:
    """``PAYMENTS_SYNC_STORM_SEEDS``: a count (``5``: the first five seeds) or a list."""
    default = [11, 23, 37, 41, 53]
    raw = os.environ.get("PAYMENTS_SYNC_STORM_SEEDS", "3").strip()
    if "," in raw:
        return [int(s) for s in raw.split(",") if s.strip()]
    count = int(raw)
    return default[:count] if count <= len(default) else [*default, *range(100, 100 + count - 5)]


# --- VAT numbers --------------------------------------------------------------------------


def belgian_numbers(rng: random.Random, count: int) -> list[str]:
    """Belgian numbers with valid check digits (the emulator verifies them)."""
    found: list[str] = []
    while len(found) < count:
        base = f"0{rng.randrange(1_000_000, 9_999_999)}"
        number = f"BE{base}{97 - int(base) % 97:02d}"
        if eu_vat.is_valid(number) and number not in found:
            found.append(number)
    return found


def croatian_unavailable_numbers(count: int) -> list[str]:
    """Croatian numbers with valid check digits ending in 111111111: the emulator's
    convention for a verification it cannot complete (``unavailable``)."""
    found = [f"HR{p:02d}111111111" for p in range(100) if eu_vat.is_valid(f"HR{p:02d}111111111")]
    assert len(found) >= count
    return found[:count]


# --- the ledger of email/name changes -----------------------------------------------------


@dataclass
class Change:
    at: float  # wall-clock time; the emulator's clock is the wall clock until the final advance
    side: str  # "host" | "provider"
    value: str
    what: str
    event: str = ""  # the dashboard edit's event id


@dataclass
class Ledger:
    """What each side changed and when: the expected email and name of every customer."""

    changes: dict[tuple[int, str], list[Change]] = field(default_factory=lambda: defaultdict(list))
    address: dict[int, dict[str, str]] = field(default_factory=dict)
    host_actions: Counter[str] = field(default_factory=Counter)
    provider_actions: Counter[str] = field(default_factory=Counter)

    def record(self, pk: int, name: str, side: str, value: str, what: str, event: str = "") -> None:
        self.changes[(pk, name)].append(Change(time.time(), side, value, what, event))

    def expected(self, pk: int, name: str) -> Change:
        return max(self.changes[(pk, name)], key=lambda c: c.at)

    def provider_edits(self) -> Iterator[tuple[int, str, Change]]:
        """The last dashboard edit of each (customer, field) with no newer host edit."""
        for (pk, name), changes in self.changes.items():
            newest = max(changes, key=lambda c: c.at)
            if newest.side == "provider":
                yield pk, name, newest


def next_second() -> None:
    """Sleep past the next full wall-clock second (event times have 1 s resolution)."""
    now = time.time()
    time.sleep(int(now) + 1 - now + 0.05)


# --- the plan of one seed -----------------------------------------------------------------


@dataclass
class Plan:
    vat_verified: list[int]  # BE, the emulator verifies the number
    vat_unavailable: list[int]  # HR, the emulator cannot; only VIES turns them valid
    billing_fr: list[int]
    billing_us: list[int]
    plain: list[int]  # no billing information
    lost: list[int]  # the creating push timed out after the provider created the customer
    vat_number: dict[int, str] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)

    @property
    def vat(self) -> list[int]:
        return self.vat_verified + self.vat_unavailable

    @property
    def billing(self) -> list[int]:
        return self.vat + self.billing_fr + self.billing_us

    def live(self, pks: list[int]) -> list[int]:
        return [pk for pk in pks if pk not in self.deleted]


def address_for(pk: int, country: str, *, street: str = "Main Street", city: str = "") -> dict:
    return {
        "address_line1": f"{pk} {street}",
        "address_line2": "",
        "city": city
        or {"BE": "Brussels", "HR": "Zagreb", "FR": "Paris", "US": "Springfield"}[country],
        "postal_code": {"BE": "1000", "HR": "10000", "FR": "75001", "US": "12345"}[country],
        "region": "IL" if country == "US" else "",
        "country": country,
    }


class Host:
    """The host's side: logged-in API clients and admin-style saves, each one recorded."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.clients: dict[int, APIClient] = {}
        self.errors: list[str] = []

    def client(self, customer: Customer) -> APIClient:
        if customer.pk not in self.clients:
            client = APIClient()
            client.force_login(customer.owner)
            self.clients[customer.pk] = client
        return self.clients[customer.pk]

    def put_billing(self, customer: Customer, data: dict[str, Any], what: str) -> None:
        response = self.client(customer).put(BILLING_URL, data, format="json")
        if response.status_code not in (200, 201):
            self.errors.append(
                f"PUT billing {customer.pk}: {response.status_code} {response.content!r}"
            )
            return
        self._billing_written(customer.pk, data, what)

    def patch_billing(self, pk: int, data: dict[str, Any], what: str) -> None:
        customer = Customer.objects.get(pk=pk)
        response = self.client(customer).patch(BILLING_URL, data, format="json")
        if response.status_code != 200:
            self.errors.append(f"PATCH billing {pk}: {response.status_code} {response.content!r}")
            return
        self._billing_written(pk, data, what)

    def _billing_written(self, pk: int, data: dict[str, Any], what: str) -> None:
        self.ledger.host_actions[what] += 1
        for name in ("email", "name"):
            if name in data:
                self.ledger.record(pk, name, "host", data[name], what)
        address_keys = {
            k: v
            for k, v in data.items()
            if k.startswith("address_") or k in ("city", "postal_code", "region", "country")
        }
        if address_keys:
            self.ledger.address[pk] = {**self.ledger.address.get(pk, {}), **address_keys}

    def save_customer(self, pk: int, **changes: str) -> None:
        """An admin-style full save of a customer (changing ``changes``, or nothing). Under a
        row lock, as a careful admin save is: a webhook applying an edit meanwhile is not
        overwritten with the values read before it."""
        with transaction.atomic():
            customer = Customer.objects.select_for_update().get(pk=pk)
            for name, value in changes.items():
                setattr(customer, name, value)
            customer.save()
        what = "admin save of a customer" + (" (renaming)" if changes else " (no change)")
        self.ledger.host_actions[what] += 1
        for name, value in changes.items():
            self.ledger.record(pk, name, "host", value, what)

    def save_subscription(self, pk: int) -> None:
        with transaction.atomic():
            Subscription.objects.select_for_update().get(pk=pk).save()
        self.ledger.host_actions["admin save of a subscription (no change)"] += 1


# --- delivering ---------------------------------------------------------------------------


class Poster:
    """Posts emulator events to the webhook endpoint ourselves: deletions first, duplicates."""

    def __init__(self, em: StripeEmulator, url: str, secret: str) -> None:
        self.em, self.url, self.secret = em, url, secret
        self.log: list[tuple[str, int | None]] = []
        self._lock = threading.Lock()

    def post(self, event_id: str) -> int | None:
        body, signature = self.em.signed_payload(event_id, self.secret)
        status: int | None = None
        for _attempt in range(5):
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = None
            if status is not None and status < 500:
                break
            time.sleep(0.2)
        with self._lock:
            self.log.append((event_id, status))
        return status


def replayer(poster: Poster, stop: threading.Event, rng: random.Random) -> None:
    """Re-post events the endpoint received already, while the storm goes on."""
    while not stop.is_set():
        delivered = [d["event"] for d in poster.em.deliveries if d["ok"]]
        if delivered:
            poster.post(rng.choice(delivered))
        stop.wait(rng.uniform(0.02, 0.08))


def db_ports(pid: int, server_port: int) -> set[int]:
    """The local ports of ``pid``'s TCP connections to the database server."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            parts = line.split()
            local, peer, inode = parts[1], parts[2], parts[9]
            if inode in inodes and int(peer.rsplit(":", 1)[1], 16) == server_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def kill_a_worker_mid_transaction(master: Any) -> dict[str, Any]:
    """Lock the subscriptions table until workers block inside their transactions, SIGKILL one
    of those, release the lock; what happened."""
    server_port = urlparse(dsn()).port or 5432
    with psycopg.connect(dsn()) as blocker:
        blocker.execute(f"LOCK TABLE {SUBSCRIPTION_TABLE} IN EXCLUSIVE MODE")
        deadline = time.monotonic() + 20
        victim, blocked = None, 0
        while time.monotonic() < deadline:
            blocker.execute("SELECT pg_stat_clear_snapshot()")
            rows = blocker.execute(
                "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' "
                "AND xact_start IS NOT NULL"
            ).fetchall()
            waiting = {r[0] for r in rows}
            blocked = len(waiting)
            candidates = [w for w in children(master.pid) if db_ports(w, server_port) & waiting]
            if candidates and (blocked >= 2 or time.monotonic() > deadline - 15):
                victim = candidates[0]
                break
            time.sleep(0.05)
        if victim is not None:
            kill(victim)
        blocker.rollback()
    return {"victim": victim, "blocked": blocked}


# --- reading the emulator -----------------------------------------------------------------


def norm(value: Any) -> Any:
    return "" if value is None else value


def provider_address(customer: dict[str, Any]) -> dict[str, str] | None:
    address = customer.get("address")
    if not address:
        return None
    return {
        "address_line1": norm(address.get("line1")),
        "address_line2": norm(address.get("line2")),
        "city": norm(address.get("city")),
        "postal_code": norm(address.get("postal_code")),
        "region": norm(address.get("state")),
        "country": norm(address.get("country")),
    }


def local_address(billing: BillingInformation) -> dict[str, str]:
    return {
        "address_line1": billing.address_line1,
        "address_line2": billing.address_line2,
        "city": billing.city,
        "postal_code": billing.postal_code,
        "region": billing.region,
        "country": billing.country.upper(),
    }


def expected_exemption(country: str, has_vat: bool) -> str:
    if country == "US":
        return "exempt"
    if country in EU_NON_SELLER and has_vat:
        return "reverse"
    return "none"


def ts(value: Any) -> int | None:
    return int(value.timestamp()) if value is not None else None


class Comparison:
    """Field-by-field comparison; counts what it compared and keeps every mismatch."""

    def __init__(self) -> None:
        self.compared = 0
        self.mismatches: list[str] = []

    def check(self, what: str, expected: Any, actual: Any, detail: str = "") -> bool:
        self.compared += 1
        if expected != actual:
            self.mismatches.append(
                f"{what}: expected {expected!r}, got {actual!r}"
                + (f" ({detail})" if detail else "")
            )
            return False
        return True


def drifting_customers(em: StripeEmulator) -> set[str]:
    """Provider ids of linked customers whose provider state differs from what a push of the
    local rows sends (docs/sync.md, "What is pushed"): what ``diff`` must report."""
    theirs = {c["id"]: c for c in remote(em, "customer")}
    tax_ids: dict[str, set[str]] = defaultdict(set)
    for t in remote(em, "tax_id"):
        if t["type"] == "eu_vat":
            tax_ids[t["customer"]].add(t["value"])
    found = set()
    for link in ExternalCustomer.objects.select_related("customer"):
        c = theirs.get(link.external_id)
        if c is None:
            continue
        customer = link.customer
        billing = BillingInformation.objects.filter(customer=customer).first()
        if billing is None:
            sent = (customer.email, customer.name, None, "none", set())
        else:
            sent = (
                billing.email or customer.email,
                billing.name or customer.name,
                local_address(billing),
                billing.tax_exemption,
                {billing.tax_id.replace(" ", "").upper()} if billing.tax_id else set(),
            )
        held = (
            norm(c["email"]),
            norm(c["name"]),
            provider_address(c),
            c["tax_exempt"],
            tax_ids[c["id"]],
        )
        if sent != held:
            found.add(link.external_id)
    return found


def print_histories(problems: list[str], provider_ids: dict[int, str]) -> None:
    """The stored events of each customer a problem names, with what the library noted."""
    keys = set()
    for line in problems:
        found = re.match(r"(customer|subscription) (\d+)", line)
        if found and found.group(1) == "customer":
            keys.add(f"customer:{provider_ids.get(int(found.group(2)), '?')}")
        sub = re.search(r"\(sub_[A-Za-z0-9]+, customer (\d+)\)", line)
        if sub:
            keys.add(f"customer:{provider_ids.get(int(sub.group(1)), '?')}")
    for key in sorted(keys):
        link = ExternalCustomer.objects.filter(external_id=key.split(":", 1)[1]).first()
        print(
            f"--- events of {key} (link: {link and link.customer_id}, synced_state: "
            f"{link and link.synced_state})"
        )
        rows = WebhookEvent.objects.filter(ordering_key=key).order_by("provider_created_at", "pk")
        for r in rows:
            obj = r.payload.get("data", {}).get("object", {})
            prev = r.payload.get("data", {}).get("previous_attributes")
            print(
                f"  {r.event_id} {r.type} t={int(r.provider_created_at.timestamp())} "
                f"{r.status}: {r.last_error[:160]!r} obj={_brief(obj)} prev={prev and _brief(prev)}"
            )


def _brief(obj: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "email", "status", "quantity", "cancel_at_period_end", "tax_exempt", "value")
    out = {k: obj[k] for k in keys if k in obj}
    items = obj.get("items", {}).get("data") if isinstance(obj.get("items"), dict) else None
    if items:
        price = items[0].get("price")
        out["item"] = (
            price.get("id") if isinstance(price, dict) else price,
            items[0].get("quantity"),
        )
    return out


# --- the test -----------------------------------------------------------------------------


@pytest.fixture
def storm_emulator(request: pytest.FixtureRequest) -> Iterator[StripeEmulator]:
    seed = request.node.callspec.params["seed"]
    emulator = StripeEmulator(
        webhook_retry_backoff=0.2, webhook_max_attempts=10, webhook_timeout=60, seed=seed
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def settle(em: StripeEmulator, timeout: float = 180) -> None:
    """Deliver everything queued, apply what is left (as cron's ``events process`` does), and
    again until nothing new is emitted."""
    for _ in range(4):
        before = len(em.store.all("event"))
        em.flush(timeout=timeout)
        status, _out, err = payments_sync("events", "process")
        assert status == 0, err
        em.flush(timeout=timeout)
        if len(em.store.all("event")) == before:
            return


@pytest.mark.parametrize("seed", _seeds())
def test_a_storm_of_edits_on_both_sides_converges_field_by_field(
    seed: int, storm_emulator: StripeEmulator, vies_responder: Any, settings: Any
) -> None:
    started = time.monotonic()
    rng = random.Random(seed)
    em = storm_emulator
    port = free_port()
    endpoint = em.add_webhook_endpoint(f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    secret = endpoint["secret"]
    vies = {
        "ENABLED": True,
        "ADDRESS": vies_responder.url,
        "TIMEOUT": TEST_TIMEOUT,
        "REQUESTER_VAT_NUMBER": None,
    }
    config = {
        "OPTIONS": emulator_options(
            em.url, webhook_secret=secret, timeout=10.0, max_network_retries=0
        ),
        "AUTO_SYNC": True,
        "SELLER_COUNTRY": "DE",
        "MAIL": {"ENABLED": False},
        "VIES": vies,
    }
    settings.PAYMENTS_SYNC = config
    cache.clear()
    ledger = Ledger()
    host = Host(ledger)

    em.pause_deliveries()
    em.set_delivery_mode("duplicates")
    extra = {
        "PAYMENTS_SYNC_TEST_API_BASE": em.url,
        "DJANGO_SETTINGS_MODULE": "tests.reliability.convergence_settings",
    }
    with gunicorn(secret, workers=WORKERS, port=port, **extra) as (master, url):
        # --- 1. set-up, on the host --------------------------------------------------------
        with transaction.atomic():
            products = [
                ProductFactory(name="Basic", description="The basic plan"),
                ProductFactory(name="Pro", description="The pro plan"),
            ]
            pricings = [
                PricingFactory(product=products[0], amount=900, interval="month", nickname="b-m"),
                PricingFactory(product=products[0], amount=9000, interval="year", nickname="b-y"),
                PricingFactory(product=products[1], amount=2900, interval="month", nickname="p-m"),
                PricingFactory(product=products[1], amount=29000, interval="year", nickname="p-y"),
            ]
        with transaction.atomic():
            users = [
                UserFactory(username=f"conv{i}", email=f"conv{i}@example.com") for i in range(32)
            ]
        # Their customers are created after the commit, and pushed after theirs.
        ordinary = [Customer.objects.get(owner=user).pk for user in users]
        rng.shuffle(ordinary)
        lost = []
        # The provider creates these customers, but the answer comes after the client gave up.
        with override_settings(
            PAYMENTS_SYNC={**config, "OPTIONS": {**config["OPTIONS"], "timeout": 0.5}}
        ):
            for i in range(32, 36):
                em.inject_fault("POST /v1/customers", "delay", count=1, delay=1.0)
                user = UserFactory(username=f"conv{i}", email=f"conv{i}@example.com")
                lost.append(Customer.objects.get(owner=user).pk)
        em.clear_faults()
        plan = Plan(
            vat_verified=ordinary[0:6],
            vat_unavailable=ordinary[6:12],
            billing_fr=ordinary[12:20],
            billing_us=ordinary[20:24],
            plain=ordinary[24:32],
            lost=lost,
        )
        for pk in [*plan.plain, *plan.lost]:
            customer = Customer.objects.get(pk=pk)
            ledger.record(pk, "email", "host", customer.email, "created")
            ledger.record(pk, "name", "host", customer.name, "created")
        numbers = belgian_numbers(rng, 6) + croatian_unavailable_numbers(6)
        vies_responder.force("SERVICE_UNAVAILABLE")
        for pk, number in zip(plan.vat, numbers, strict=True):
            plan.vat_number[pk] = number
        for pk in plan.billing:
            country = (
                "BE"
                if pk in plan.vat_verified
                else "HR"
                if pk in plan.vat_unavailable
                else "FR"
                if pk in plan.billing_fr
                else "US"
            )
            data = {
                "name": f"Company {pk}",
                "email": f"billing{pk}@company{pk}.example",
                **address_for(pk, country),
                "tax_id": plan.vat_number.get(pk, ""),
            }
            host.put_billing(Customer.objects.get(pk=pk), data, "created")
        assert not host.errors, host.errors
        unavailable = BillingInformation.objects.filter(
            customer_id__in=plan.vat, vat_validation_status="unavailable"
        ).count()
        assert unavailable == len(plan.vat)
        # The lost answers: the customers exist at the provider, nothing links them here.
        deadline = time.monotonic() + 10
        provider_ids: dict[int, str] = {}
        while time.monotonic() < deadline:
            by_local = {
                int(c["metadata"]["payments_sync_id"]): c["id"]
                for c in remote(em, "customer")
                if c["metadata"].get("payments_sync_id")
            }
            if set(plan.lost) <= set(by_local):
                break
            time.sleep(0.1)
        provider_ids.update(by_local)
        assert set(plan.lost) <= set(provider_ids), "the delayed creations did not happen"
        assert not ExternalCustomer.objects.filter(customer_id__in=plan.lost).exists()
        linked = dict(ExternalCustomer.objects.values_list("customer_id", "external_id"))
        assert set(linked) == set(ordinary), "a set-up push failed"
        prices = {p.pk: ExternalPricing.objects.get(pricing=p).external_id for p in pricings}
        price_ids = list(prices.values())

        # --- 2. the dashboard ---------------------------------------------------------------
        next_second()
        client: Any = em.client()

        def last_event() -> str:
            with em.store.lock:
                return str(em.store.all("event")[0]["id"])

        plan.deleted = [
            *plan.lost[:3],
            plan.vat_verified[0],
            plan.vat_unavailable[0],
            plan.billing_fr[0],
            plan.billing_us[0],
            plan.plain[0],
            plan.plain[1],
        ]
        everyone = [*ordinary, *lost]
        live_billing = plan.live(plan.billing)
        address_edits = rng.sample(live_billing, 4)
        exempt_edits = rng.sample([pk for pk in live_billing if pk not in address_edits], 3)
        tax_id_deletions = rng.sample(plan.live(plan.vat), 2)
        tax_id_addition = rng.choice(plan.live(plan.billing_fr))
        subscribed = rng.sample(everyone, 28)
        intent: dict[str, dict[str, Any]] = {}
        pending_steps: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
        for pk in everyone:
            cus = provider_ids[pk]
            update: dict[str, Any] = {}
            if rng.random() < 0.5 or pk == plan.lost[3]:
                update["name"] = f"Dashboard Name {pk}-{rng.randrange(1000)}"
            if rng.random() < 0.4:
                update["email"] = f"dash{pk}-{rng.randrange(1000)}@provider.example"
            if pk in address_edits:
                update["address"] = {
                    "line1": f"{pk} Dashboard Road",
                    "city": "Elsewhere",
                    "postal_code": "99999",
                    "country": "FR",
                }
            if pk in exempt_edits:
                update["tax_exempt"] = "exempt" if pk not in plan.billing_us else "none"
            if pk in subscribed:
                update["invoice_settings"] = {"default_payment_method": "pm_card_visa"}
            if update:
                client.v1.customers.update(cus, update)
                event = last_event()
                for name in ("email", "name"):
                    if name in update:
                        ledger.record(pk, name, "provider", update[name], "dashboard", event)
                        ledger.provider_actions[f"{name} edit"] += 1
                ledger.provider_actions["address edit"] += "address" in update
                ledger.provider_actions["tax_exempt edit"] += "tax_exempt" in update
            if pk in tax_id_deletions:
                for t in client.v1.customers.tax_ids.list(cus).data:
                    client.v1.customers.tax_ids.delete(cus, t.id)
                ledger.provider_actions["tax id deleted"] += 1
            if pk == tax_id_addition:
                client.v1.customers.tax_ids.create(
                    cus, {"type": "eu_vat", "value": "FR40303265045"}
                )
                ledger.provider_actions["tax id added"] += 1
            if pk in subscribed:
                price = rng.choice(price_ids)
                params: dict[str, Any] = {"customer": cus, "items": [{"price": price}]}
                if rng.random() < 0.35:
                    params["trial_period_days"] = rng.choice([3, 7, 14])
                    ledger.provider_actions["trial"] += 1
                sub = client.v1.subscriptions.create(params)
                # Later changes of this subscription, each in a later second (below).
                quantity, steps = 1, []
                for _ in range(rng.randint(1, 3)):
                    if rng.random() < 0.5:
                        price = rng.choice([p for p in price_ids if p != price])
                        steps.append(("items", {"price": price}, "plan change"))
                    else:
                        quantity = rng.choice([q for q in (1, 2, 3, 5) if q != quantity])
                        steps.append(("items", {"quantity": quantity}, "quantity change"))
                roll = rng.random()
                if roll < 0.3:
                    steps.append(("update", {"cancel_at_period_end": True}, "cancel at period end"))
                    if rng.random() < 0.5:
                        steps.append(
                            ("update", {"cancel_at_period_end": False}, "undo cancel at period end")
                        )
                elif roll < 0.42:
                    steps.append(("cancel", {}, "immediate cancel"))
                pending_steps[sub.id] = steps
                intent[sub.id] = {"price": price, "quantity": quantity, "customer": pk}
        # Successive changes of one object fall in distinct seconds, as a person's would: within
        # one second the provider's events of an object cannot be told apart when a state
        # comes back (A, B, A, C), which docs/webhooks.md documents.
        for round_ in itertools.count():
            due = {
                sid: steps[round_] for sid, steps in pending_steps.items() if round_ < len(steps)
            }
            if not due:
                break
            next_second()
            for sid, (kind, change, label) in due.items():
                if kind == "items":
                    item = client.v1.subscriptions.retrieve(sid)["items"]["data"][0]["id"]
                    client.v1.subscriptions.update(sid, {"items": [{"id": item, **change}]})
                elif kind == "update":
                    client.v1.subscriptions.update(sid, change)
                else:
                    client.v1.subscriptions.cancel(sid)
                ledger.provider_actions[label] += 1
        next_second()
        client.v1.products.update(
            ExternalProduct.objects.get(product=products[0]).external_id,
            {"name": "Renamed at the provider"},
        )
        client.v1.prices.update(prices[pricings[1].pk], {"nickname": "dashboard nickname"})
        ledger.provider_actions["product renamed"] += 1
        ledger.provider_actions["price nickname"] += 1
        deletion_events: dict[int, str] = {}
        for pk in plan.deleted:
            client.v1.customers.delete(provider_ids[pk])
            deletion_events[pk] = last_event()
            ledger.provider_actions["customer deleted"] += 1
        em.set_delivery_mode("shuffled")  # events from now on are queued once

        # --- 3. the storm -------------------------------------------------------------------
        next_second()
        poster = Poster(em, url, secret)
        # Deletions first, before any creation, for two thirds of them (all the unlinked ones).
        early = [*plan.lost[:3], *rng.sample(plan.deleted[3:], 4)]
        for pk in early:
            answer = poster.post(deletion_events[pk])
            stored = list(
                WebhookEvent.objects.filter(event_id=deletion_events[pk]).values(
                    "status", "last_error"
                )
            )
            assert answer == 200, stored
        for _ in range(DELIVERY_THREADS - 1):
            em.dispatcher.start()
        stop = threading.Event()
        replay = threading.Thread(
            target=replayer, args=(poster, stop, random.Random(seed + 1)), daemon=True
        )
        em.resume_deliveries()
        replay.start()

        actions: list[tuple[str, Callable[[], None]]] = []
        renamed = {
            pk for (pk, name), ch in ledger.changes.items() if any(c.side == "provider" for c in ch)
        }
        live_billing_renamed = [pk for pk in live_billing if pk in renamed]
        for pk in rng.sample(live_billing_renamed, min(4, len(live_billing_renamed))) + rng.sample(
            live_billing, 1
        ):
            value = f"Host Name {pk}-{rng.randrange(1000)}"
            actions.append(
                (
                    "patch name",
                    lambda pk=pk, v=value: host.patch_billing(
                        pk, {"name": v}, "PATCH billing name"
                    ),
                )
            )
        for pk in rng.sample(live_billing, 3):
            value = f"host{pk}-{rng.randrange(1000)}@company{pk}.example"
            actions.append(
                (
                    "patch email",
                    lambda pk=pk, v=value: host.patch_billing(
                        pk, {"email": v}, "PATCH billing email"
                    ),
                )
            )
        for pk in (
            rng.sample(address_edits, 2)
            + rng.sample(live_billing_renamed, 2)
            + rng.sample(live_billing, 1)
        ):
            city = f"Host City {rng.randrange(1000)}"
            actions.append(
                (
                    "patch address",
                    lambda pk=pk, c=city: host.patch_billing(
                        pk, {"city": c, "address_line2": "Host floor"}, "PATCH billing address"
                    ),
                )
            )
        for pk in plan.live(plan.plain)[:2]:
            data = {
                "name": f"New Billing {pk}",
                "email": f"newbilling{pk}@example.org",
                **address_for(pk, "FR"),
                "tax_id": "",
            }
            actions.append(
                (
                    "put billing",
                    lambda pk=pk, d=data: host.put_billing(
                        Customer.objects.get(pk=pk), d, "PUT billing (creates it)"
                    ),
                )
            )
        for pk in rng.sample(live_billing_renamed, min(5, len(live_billing_renamed))):
            actions.append(("admin no-op", lambda pk=pk: host.save_customer(pk)))
        for pk in plan.live(plan.plain)[2:4]:
            value = f"Admin Name {pk}-{rng.randrange(1000)}"
            actions.append(("admin rename", lambda pk=pk, v=value: host.save_customer(pk, name=v)))
        for pk in plan.live(plan.plain)[4:]:
            actions.append(("admin no-op", lambda pk=pk: host.save_customer(pk)))

        def rename_product() -> None:
            with transaction.atomic():
                product = Product.objects.select_for_update().get(pk=products[1].pk)
                product.name = "Pro (renamed by the host)"
                product.save()
            ledger.host_actions["admin save of a product"] += 1

        def renickname_price() -> None:
            with transaction.atomic():
                pricing = Pricing.objects.select_for_update().get(pk=pricings[3].pk)
                pricing.nickname = "host nickname"
                pricing.save()
            ledger.host_actions["admin save of a price"] += 1

        actions += [("product", rename_product), ("price", renickname_price)]
        picks = random.Random(rng.random())

        def save_some_subscription() -> None:
            # One the webhooks created already (which ones exist depends on the deliveries).
            pks = list(Subscription.objects.order_by("pk").values_list("pk", flat=True))
            if pks:
                host.save_subscription(picks.choice(pks))

        actions += [("subscription no-op", save_some_subscription)] * 5
        deleted_billing = [pk for pk in plan.deleted if pk in plan.billing]
        actions.append(
            (
                "patch deleted",
                lambda: host.patch_billing(
                    deleted_billing[0],
                    {"city": "After deletion"},
                    "PATCH billing of a customer deleted at the provider",
                ),
            )
        )
        actions.append(
            (
                "rename deleted",
                lambda: host.save_customer(plan.plain[0], name="Renamed after deletion"),
            )
        )
        rng.shuffle(actions)

        def vies_back() -> None:
            vies_responder.force(None)
            for number in numbers:
                vies_responder.register(
                    number, "valid", name="Registered Trader", address="1 Street"
                )

        def recheck() -> None:
            status, out, err = payments_sync("vat", "recheck", "--force")
            assert status == 0, err
            ledger.host_actions["vat recheck --force"] += 1
            ledger.host_actions[f"vat recheck: {out.strip()}"] += 1

        killed: list[dict[str, Any]] = []
        third = len(actions) // 3
        actions.insert(third, ("vies back", vies_back))
        actions.insert(third * 2, ("recheck", recheck))
        actions.insert(
            len(actions) // 2,
            ("kill", lambda: killed.append(kill_a_worker_mid_transaction(master))),
        )
        for _name, action in actions:
            action()
            time.sleep(rng.uniform(0.02, 0.15))
        assert not host.errors, host.errors
        # The clock moves after the last edit on either side (see the module's docstring).
        em.advance_clock(35 * DAY)
        try:
            settle(em)
        finally:
            stop.set()
            replay.join(timeout=30)
        settle(em)

        # --- 4. diff before the repair, the final push --------------------------------------
        drift = drifting_customers(em)
        deleted_ids = {provider_ids[pk] for pk in plan.deleted}
        diff_status, diff_out, _ = payments_sync("diff")
        mentioned = set(re.findall(r"cus_[A-Za-z0-9]+", diff_out))
        missed = drift - mentioned
        false_drift = mentioned - drift - deleted_ids
        # What cron runs: push retries what is pending; reconcile repairs the drift diff found
        # (host-owned fields edited in the dashboard) by the ownership rules.
        push_status, push_out, push_err = payments_sync("push")
        settle(em)
        reconcile_status, reconcile_out, reconcile_err = payments_sync(
            "reconcile", "--rate", "1000"
        )
        push_out += "\n" + reconcile_out
        push_err += "\n" + reconcile_err
        push_status = push_status or reconcile_status
        settle(em)
        final_diff_status, final_diff_out, _ = payments_sync("diff")
        elapsed = time.monotonic() - started

        # --- figures ------------------------------------------------------------------------
        emitted = {e["id"] for e in em.events()}
        deliveries = [d for d in em.deliveries if d["ok"]] + [
            {"event": e} for e, s in poster.log if s == 200
        ]
        received = Counter(d["event"] for d in deliveries)
        duplicates = sum(n - 1 for n in received.values())

    # --- 5. the comparison ------------------------------------------------------------------
    cmp = Comparison()
    theirs = {c["id"]: c for c in remote(em, "customer")}
    live_by_local: Counter[int] = Counter(
        int(c["metadata"]["payments_sync_id"])
        for c in theirs.values()
        if c["metadata"].get("payments_sync_model") == CUSTOMER_LABEL
    )
    created_by_local: Counter[int] = Counter(
        int(e["data"]["object"]["metadata"]["payments_sync_id"])
        for e in em.events("customer.created")
        if e["data"]["object"]["metadata"].get("payments_sync_id")
    )
    tax_ids: dict[str, set[str]] = defaultdict(set)
    for t in remote(em, "tax_id"):
        if t["type"] == "eu_vat":
            tax_ids[t["customer"]].add(t["value"])
    links = {e.customer_id: e.external_id for e in ExternalCustomer.objects.all()}
    lost_deletions, resurrected = [], []
    for pk in everyone:
        customer = Customer.objects.get(pk=pk)
        billing = BillingInformation.objects.filter(customer=customer).first()
        if pk in plan.deleted:
            gone = provider_ids[pk]
            ok = all(
                [
                    cmp.check(
                        f"customer {pk} ({gone}) ProviderDeletion",
                        True,
                        ProviderDeletion.objects.filter(
                            object_type="customer", external_id=gone
                        ).exists(),
                        f"deleted by {deletion_events[pk]}",
                    ),
                    # The link may stay, as the record of what was deleted; never another one.
                    cmp.check(f"customer {pk} ({gone}) link", True, links.get(pk) in (None, gone)),
                    cmp.check(
                        f"customer {pk} ({gone}) sync_status",
                        "failed",
                        customer.sync_status,
                        customer.sync_error,
                    ),
                    cmp.check(
                        f"customer {pk} ({gone}) sync_error names the deletion",
                        True,
                        "deleted" in customer.sync_error.lower(),
                        customer.sync_error,
                    ),
                ]
            )
            if not ok:
                lost_deletions.append(pk)
            if not cmp.check(
                f"customer {pk} ({gone}) live provider customers", 0, live_by_local[pk]
            ):
                resurrected.append(pk)
            continue
        if not cmp.check(f"customer {pk} provider customers created", 1, created_by_local[pk]):
            resurrected.append(pk)
        cmp.check(f"customer {pk} live provider customers", 1, live_by_local[pk])
        cus = links.get(pk)
        if not cmp.check(f"customer {pk} linked to its provider customer", provider_ids[pk], cus):
            continue
        c = theirs.get(cus)
        if not cmp.check(f"customer {pk} ({cus}) at the provider", True, c is not None):
            continue
        cmp.check(
            f"customer {pk} ({cus}) sync_status",
            "synced",
            customer.sync_status,
            customer.sync_error,
        )
        for name in ("email", "name"):
            want = ledger.expected(pk, name)
            why = f"{want.side} {want.what} {want.event}".strip()
            cmp.check(f"customer {pk} ({cus}) provider {name}", want.value, norm(c[name]), why)
            if billing is not None:
                cmp.check(
                    f"customer {pk} ({cus}) BillingInformation.{name}",
                    want.value,
                    getattr(billing, name),
                    why,
                )
            if billing is None or want.side == "provider":
                cmp.check(
                    f"customer {pk} ({cus}) Customer.{name}",
                    want.value,
                    getattr(customer, name),
                    why,
                )
        meta = c["metadata"]
        cmp.check(
            f"customer {pk} ({cus}) metadata",
            {"payments_sync_id": str(pk), "payments_sync_model": CUSTOMER_LABEL},
            {k: meta.get(k) for k in ("payments_sync_id", "payments_sync_model")},
        )
        if billing is None:
            cmp.check(f"customer {pk} ({cus}) provider address", None, provider_address(c))
            cmp.check(f"customer {pk} ({cus}) provider tax_exempt", "none", c["tax_exempt"])
            cmp.check(f"customer {pk} ({cus}) provider tax ids", set(), tax_ids[cus])
            continue
        want_address = ledger.address[pk]
        want_address = {**want_address, "country": want_address["country"].upper()}
        cmp.check(f"customer {pk} ({cus}) local address", want_address, local_address(billing))
        cmp.check(f"customer {pk} ({cus}) provider address", want_address, provider_address(c))
        number = plan.vat_number.get(pk, "")
        exemption = expected_exemption(billing.country, bool(number))
        cmp.check(f"customer {pk} ({cus}) local tax_exemption", exemption, billing.tax_exemption)
        cmp.check(f"customer {pk} ({cus}) provider tax_exempt", exemption, c["tax_exempt"])
        cmp.check(f"customer {pk} ({cus}) local VAT number", number, billing.tax_id)
        if number:
            cmp.check(f"customer {pk} ({cus}) VAT status", "valid", billing.vat_validation_status)
        cmp.check(
            f"customer {pk} ({cus}) provider tax ids", {number} if number else set(), tax_ids[cus]
        )

    reverted = []
    for pk, name, change in ledger.provider_edits():
        if pk in plan.deleted:
            continue
        c = theirs.get(links.get(pk, ""))
        if c is None or norm(c[name]) != change.value:
            reverted.append(
                f"customer {pk} {name}: dashboard set {change.value!r} ({change.event}), "
                f"provider holds {c and c[name]!r}"
            )

    # Subscriptions: provider-owned.
    price_pricing = dict(ExternalPricing.objects.values_list("external_id", "pricing_id"))
    ours = {
        e.external_id: e.subscription
        for e in ExternalSubscription.objects.select_related("subscription")
    }
    deleted_locals = set(plan.deleted)
    for s in remote(em, "subscription"):
        item = s["items"]["data"][0]
        price = item["price"] if isinstance(item["price"], str) else item["price"]["id"]
        wanted = intent[s["id"]]
        local = ours.get(s["id"])
        if local is None:
            cmp.check(
                f"subscription {s['id']} (customer {wanted['customer']}) local row",
                True,
                wanted["customer"] in deleted_locals and s["status"] == "canceled",
            )
            continue
        who = f"subscription {local.pk} ({s['id']}, customer {wanted['customer']})"
        if wanted["customer"] not in deleted_locals:
            cmp.check(f"{who} provider price is the dashboard's", wanted["price"], price)
            cmp.check(
                f"{who} provider quantity is the dashboard's", wanted["quantity"], item["quantity"]
            )
        for label, mine, theirs_value in (
            ("status", local.status, s["status"]),
            ("quantity", local.quantity, item["quantity"]),
            ("pricing", local.pricing_id, price_pricing.get(price)),
            ("cancel_at_period_end", local.cancel_at_period_end, s["cancel_at_period_end"]),
            ("current_period_start", ts(local.current_period_start), item["current_period_start"]),
            ("current_period_end", ts(local.current_period_end), item["current_period_end"]),
            ("trial_end", ts(local.trial_end), s["trial_end"]),
            ("ended_at", ts(local.ended_at), s["ended_at"]),
            ("customer", local.customer_id, wanted["customer"]),
        ):
            cmp.check(f"{who} {label}", theirs_value, mine)
    cmp.check(
        "local subscriptions without a provider subscription",
        set(),
        set(
            Subscription.objects.exclude(
                external_subscriptions__external_id__in=list(intent)
            ).values_list("pk", flat=True)
        ),
    )

    # Products and prices: host-owned.
    their_products = {p["id"]: p for p in remote(em, "product")}
    their_prices = {p["id"]: p for p in remote(em, "price")}
    for product in Product.objects.all():
        p = their_products[ExternalProduct.objects.get(product=product).external_id]
        for label, mine, value in (
            ("name", product.name, p["name"]),
            ("description", product.description, norm(p["description"])),
            ("active", product.active, p["active"]),
        ):
            cmp.check(f"product {product.pk} ({p['id']}) {label}", mine, value)
    for pricing in Pricing.objects.all():
        p = their_prices[ExternalPricing.objects.get(pricing=pricing).external_id]
        for label, mine, value in (
            ("amount", pricing.amount, p["unit_amount"]),
            ("currency", pricing.currency, p["currency"]),
            ("interval", pricing.interval, (p["recurring"] or {}).get("interval")),
            ("nickname", pricing.nickname, norm(p["nickname"])),
            ("active", pricing.active, p["active"]),
            (
                "product",
                ExternalProduct.objects.get(product_id=pricing.product_id).external_id,
                p["product"],
            ),
        ):
            cmp.check(f"price {pricing.pk} ({p['id']}) {label}", mine, value)

    statuses = Counter(WebhookEvent.objects.values_list("status", flat=True))
    unsettled = [
        (r["event_id"], r["type"], r["status"], r["ordering_key"], r["last_error"][:120])
        for r in WebhookEvent.objects.exclude(status__in=["processed", "ignored"]).values(
            "event_id", "type", "status", "ordering_key", "last_error"
        )
        if not (
            r["status"] == "deferred"
            and r["ordering_key"] in {f"customer:{i}" for i in deleted_ids}
        )
    ]
    figures = {
        "seed": seed,
        "events": len(emitted),
        "deliveries": len(deliveries),
        "duplicate deliveries": duplicates,
        "deletions posted first": len(early),
        "workers killed": sum(1 for k in killed if k["victim"]),
        "backends blocked at the kill": [k["blocked"] for k in killed],
        "host actions": sum(
            v for k, v in ledger.host_actions.items() if not k.startswith("vat recheck:")
        ),
        "provider actions": sum(ledger.provider_actions.values()),
        "fields compared": cmp.compared,
        "mismatches": len(cmp.mismatches),
        "lost deletions": len(lost_deletions),
        "resurrected": len(resurrected),
        "reverted provider edits": len(reverted),
        "diff before push: drift missed": len(missed),
        "diff before push: false drift": len(false_drift),
        "event statuses": dict(statuses),
        "seconds": round(elapsed, 1),
    }
    print(f"\nconvergence storm {json.dumps(figures)}")
    print("host actions:", dict(ledger.host_actions))
    print("provider actions:", dict(ledger.provider_actions))
    problems = [
        *(f"MISMATCH {m}" for m in cmp.mismatches),
        *(f"REVERTED {r}" for r in reverted),
        *(f"DIFF MISSED {i}" for i in sorted(missed)),
        *(f"FALSE DRIFT {i}" for i in sorted(false_drift)),
        *(f"UNSETTLED EVENT {u}" for u in unsettled),
    ]
    if final_diff_status != 0:
        problems.append(f"FINAL DIFF exit {final_diff_status}:\n{final_diff_out}")
    if push_status != 0:
        problems.append(f"FINAL PUSH exit {push_status}:\n{push_out}\n{push_err}")
    if not killed or not killed[0]["victim"]:
        problems.append(f"NO WORKER KILLED {killed}")
    for line in problems:
        print(line)
    if problems:
        print("FINAL PUSH OUTPUT:", push_out, push_err)
        print_histories(cmp.mismatches + reverted, provider_ids)
    assert diff_status in (0, 1)
    assert not problems, f"{len(problems)} problem(s), see the output: first {problems[:5]}"
    assert figures["mismatches"] == figures["lost deletions"] == figures["resurrected"] == 0
    assert figures["reverted provider edits"] == 0
