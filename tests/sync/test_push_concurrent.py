"""The concurrent push: threads under one rate budget, every row linked once, and a push killed
midway (SIGKILL) finished by the next one without a duplicate at the provider."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from django_payments_sync.backends import get_backend
from django_payments_sync.backends.ratelimit import RateLimitedBackend, TokenBucket
from django_payments_sync.backends.stripe import StripeBackend
from django_payments_sync.management.progress import ProgressBar
from django_payments_sync.models import ExternalPricing, ExternalProduct, Pricing, Product
from django_payments_sync.sync.push import limited_backend, push_all
from tests.backends.helpers import RecordingHTTPClient
from tests.sync.conftest import Provider

SECRET = "whsec_push_tests"


class TimedHTTPClient(RecordingHTTPClient):
    """Also the time each request left, to count requests per window."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> TimedHTTPClient:
        return self

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:  # type: ignore[override]
        with self._lock:
            self.times.append(time.monotonic())
        return super().request(method, url, headers, post_data)


def seed(products: int, prices: int = 2) -> None:
    """A catalog saved without being pushed (bulk_create sends no save signal)."""
    rows = Product.objects.bulk_create(Product(name=f"Plan {n}") for n in range(products))
    Pricing.objects.bulk_create(
        Pricing(
            product=product,
            amount=1000 + 100 * k,
            currency="eur",
            interval="month" if k % 2 == 0 else "year",
        )
        for product in rows
        for k in range(prices)
    )


def assert_catalog_matches_the_provider(backend: Any) -> None:
    """Every product and price linked once, to a provider object with its content; nothing else
    at the provider."""
    remote_products = {p.id: p for p in backend.list_products()}
    remote_prices = {p.id: p for p in backend.list_prices()}
    links = {e.product_id: e.external_id for e in ExternalProduct.objects.all()}
    price_links = {e.pricing_id: e.external_id for e in ExternalPricing.objects.all()}
    products = list(Product.objects.order_by("pk"))
    pricings = list(Pricing.objects.order_by("pk"))
    assert len(remote_products) == len(products), "a product was created twice (or not at all)"
    assert len(remote_prices) == len(pricings), "a price was created twice (or not at all)"
    assert sorted(links.values()) == sorted(remote_products)
    assert sorted(price_links.values()) == sorted(remote_prices)
    for product in products:
        remote = remote_products[links[product.pk]]
        assert remote.name == product.name
        assert remote.metadata["payments_sync_id"] == str(product.pk)
    for pricing in pricings:
        remote_price = remote_prices[price_links[pricing.pk]]
        assert remote_price.product_id == links[pricing.product_id]
        assert (remote_price.amount, remote_price.currency) == (pricing.amount, pricing.currency)
        assert remote_price.interval == pricing.interval


def emulated(settings: Any, emulator: Any, client: RecordingHTTPClient | None = None) -> Any:
    options = {
        **settings.PAYMENTS_SYNC["OPTIONS"],
        "api_base": emulator.url,
        "max_network_retries": 0,
        "http_client": client or RecordingHTTPClient(timeout=10),
    }
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "OPTIONS": options, "AUTO_SYNC": False}
    return get_backend()


# --- the budget ------------------------------------------------------------------------------


def test_the_default_budget_follows_the_key_mode(settings: Any) -> None:
    test = StripeBackend(api_key="sk_test_x", api_base="http://127.0.0.1:9")
    live = StripeBackend(api_key="rk_live_x", api_base="http://127.0.0.1:9")
    assert test.default_rate_limit() == 25.0
    assert live.default_rate_limit() == 100.0
    limited: Any = limited_backend(live)
    assert isinstance(limited, RateLimitedBackend)
    assert limited.bucket.rate == 100.0
    # The setting wins over the key; an explicit rate over the setting.
    settings.PAYMENTS_SYNC = {**settings.PAYMENTS_SYNC, "PUSH": {"RATE_LIMIT": 7}}
    assert limited_backend(live).bucket.rate == 7.0  # type: ignore[attr-defined]
    assert limited_backend(live, 3).bucket.rate == 3.0  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="positive"):
        limited_backend(live, 0)


def test_threads_sharing_a_bucket_get_the_rate_between_them() -> None:
    bucket = TokenBucket(200, capacity=10)
    started = time.monotonic()
    taken: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            bucket.take()
            with lock:
                taken.append(time.monotonic() - started)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 200
    # 200 tokens at 200 a second after a burst of 10: never more than 10 + 200 t by time t.
    taken.sort()
    for n, at in enumerate(taken, start=1):
        assert n <= 10 + 200 * at + 1, f"{n} tokens taken by {at:.3f} s"


@pytest.mark.django_db(transaction=True)
def test_the_push_never_exceeds_its_rate_budget(settings: Any, stripe_emulator: Any) -> None:
    client = TimedHTTPClient(timeout=10)
    backend = emulated(settings, stripe_emulator, client)
    seed(30)
    rate = 60.0
    report = push_all(backend=backend, customers=False, rate=rate, concurrency=6)
    assert not report.failures
    # 30 products, 60 prices, a listing of each (some rows had no link yet).
    assert len(client.times) == 92
    times = sorted(client.times)
    # A token bucket's promise: in any span of t seconds, at most capacity + rate * t calls
    # (the capacity: one second's worth). One call of slack: a thread may take its token and
    # be descheduled before its request leaves.
    for i, first in enumerate(times):
        for j in range(i, len(times)):
            assert j - i + 1 <= rate + rate * (times[j] - first) + 1, (i, j)


# --- concurrency ---------------------------------------------------------------------------


def _connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_push_links_every_row_once(settings: Any, stripe_emulator: Any) -> None:
    backend = emulated(settings, stripe_emulator)
    seed(40)
    before = _connections()
    report = push_all(backend=backend, customers=False, rate=1000, concurrency=8)
    assert not report.failures
    assert report.counts()["created"] == 120
    assert_catalog_matches_the_provider(backend)
    # Every thread closed its database connection when it ended.
    time.sleep(0.2)
    assert _connections() == before
    # Nothing left to push: no write, no listing.
    backend.options["http_client"].clear()
    again = push_all(backend=backend, customers=False, rate=1000, concurrency=8)
    assert again.counts()["unchanged"] == 120
    assert backend.options["http_client"].log == []


@pytest.mark.django_db
def test_inside_a_transaction_the_push_runs_in_the_calling_thread(
    settings: Any, stripe_provider: Provider
) -> None:
    # The test's transaction holds the rows: other connections could not see them.
    seed(5)
    names: set[str] = set()
    original = stripe_provider.backend.create_product

    def create_product(*args: Any, **kwargs: Any) -> Any:
        names.add(threading.current_thread().name)
        return original(*args, **kwargs)

    stripe_provider.backend.create_product = create_product  # type: ignore[method-assign]
    report = push_all(backend=stripe_provider.backend, customers=False, concurrency=8, rate=500)
    assert not report.failures
    assert names == {threading.current_thread().name}


# --- a push killed midway ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_push_killed_midway_is_finished_by_the_next_without_duplicates(
    settings: Any, stripe_emulator: Any
) -> None:
    from tests.reliability.servers import ROOT, server_env

    backend = emulated(settings, stripe_emulator)
    products = 60
    seed(products)
    env = server_env(SECRET, PAYMENTS_SYNC_TEST_API_BASE=stripe_emulator.url)
    command = [
        sys.executable,
        "-m",
        "django",
        "payments_sync",
        "push",
        "--only",
        "products",
        "--concurrency",
        "8",
        "--rate",
        "150",
        "--no-progress",
        "-v",
        "0",
    ]
    # Killed three times along the way: each time some creates are in flight, and often one the
    # provider has made whose answer never came back (idempotency keys and the listing's
    # adoption each cover that case alone; without both, duplicates appear).
    for stop_at in (products // 5, products // 2, 4 * products // 5):
        push = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while ExternalProduct.objects.count() < stop_at:
            assert push.poll() is None, push.communicate()[1].decode()[-3000:]
            assert time.monotonic() < deadline, "the push made no progress"
            time.sleep(0.01)
        push.kill()
        push.wait()
        assert ExternalProduct.objects.count() < products, "killed too late"
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_catalog_matches_the_provider(backend)
    assert set(Product.objects.values_list("sync_status", flat=True)) == {"synced"}
    assert set(Pricing.objects.values_list("sync_status", flat=True)) == {"synced"}


# --- the command: flags and progress bar ------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_counts_rows_and_clears_itself_for_lines() -> None:
    now = [0.0]
    screen = Terminal()
    bar = ProgressBar(screen, clock=lambda: now[0])
    bar.start("products and prices", 30)
    now[0] = 2.0
    bar.advance(10)
    assert "10/30" in screen.getvalue()
    assert "5.0 rows/s" in screen.getvalue()
    assert "ETA 0:04" in screen.getvalue()
    lines: list[str] = []
    bar.print(lines.append, "product 1 [prod_1]: created")
    assert screen.getvalue().endswith("\r\033[K")  # cleared before the line went out
    bar.advance(20)
    bar.finish()
    assert re.search(r"30/30 \[#+\] 100%  15\.0 rows/s  ETA 0:00\n$", screen.getvalue())
    # Not a terminal: nothing at all.
    pipe = io.StringIO()
    quiet = ProgressBar(pipe)
    quiet.start("products and prices", 3)
    quiet.advance(3)
    quiet.finish()
    assert pipe.getvalue() == ""


def test_the_push_command_draws_its_bar_on_a_terminal_unless_told_not_to(
    locmem: Provider,
) -> None:
    seed(3)
    out, err = io.StringIO(), Terminal()
    call_command("payments_sync", "push", "--only", "products", stdout=out, stderr=err)
    assert "products and prices  9/9 [" in err.getvalue()
    assert "Pushed: 9 created" in out.getvalue()
    assert "rows checked" not in out.getvalue()
    Product.objects.update(name="Renamed")
    err = Terminal()
    call_command(
        "payments_sync",
        "push",
        "--no-progress",
        "--rate",
        "500",
        "--concurrency",
        "2",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert err.getvalue() == ""


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--rate", "0", "must be more than 0"), ("--concurrency", "two", "not a number")],
)
def test_the_push_command_refuses_a_rate_or_concurrency_it_cannot_use(
    locmem: Provider, flag: str, value: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("payments_sync", "push", flag, value, stdout=io.StringIO())
