"""Benchmark of a VAT-number check answered from the database cache vs through local VIES.

Django comes from the test project's settings (``DJANGO_SETTINGS_MODULE=tests.settings``, set
here when unset: SQLite in memory), migrated at start. VIES is the local responder
(``django_payments_sync.testing.vies_responder``) in a thread of this process, over real HTTP
on 127.0.0.1 with real zeep, so the figures are this library's own cost plus a loopback round
trip, not the real VIES's latency (which is typically hundreds of milliseconds, and seconds
when a member state is slow).

Measured, each as the median (and 95th percentile) over N runs after a warm-up:

* ``offline``: ``parse_vat_number`` only (python-stdnum format and check digits);
* ``cache hit``: ``validate_vat`` answered from the ``VatCheck`` table;
* ``responder``: ``validate_vat(..., use_cache=False)``: offline check, zeep call over HTTP,
  storing the answer;
* ``check_vat``: the zeep call alone, without the database;
* ``first call``: the very first ``check_vat`` of the process (builds the zeep client from
  the shipped WSDL).

Run from the repository root:

    PYTHONPATH=.:src .venv/bin/python benchmarks/vat_check.py [-n 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def timings(run: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(
        f"{label:<12} median {statistics.median(samples) * 1000:8.3f} ms   "
        f"p95 {p95 * 1000:8.3f} ms   min {ordered[0] * 1000:8.3f} ms   (n={len(samples)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=500, help="runs per measurement")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path[:0] = [p for p in (".", "src") if p not in sys.path]
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from django_payments_sync.testing.vies_responder import VIESResponder
    from django_payments_sync.vies import VatStatus, check_vat, parse_vat_number, validate_vat

    call_command("migrate", verbosity=0)
    number, country = "DE812345673", "DE"

    with VIESResponder() as responder:
        vies = {
            **settings.PAYMENTS_SYNC.get("VIES", {}),
            "ADDRESS": responder.url,
            "TIMEOUT": 5.0,
            "REQUESTER_VAT_NUMBER": None,
        }
        with override_settings(PAYMENTS_SYNC={**settings.PAYMENTS_SYNC, "VIES": vies}):
            started = time.perf_counter()
            first = check_vat("DE", "812345673")
            first_call = time.perf_counter() - started
            assert first.status is VatStatus.VALID, first

            warm = validate_vat(number, country, use_cache=False)
            assert warm.status is VatStatus.VALID, warm
            assert not warm.cached, warm
            assert validate_vat(number, country).cached

            print(
                f"VAT check of {number}: Python {sys.version.split()[0]}, "
                f"Django {django.get_version()}, SQLite in memory, VIES at {responder.url}"
            )
            print(
                f"{'first call':<12} {first_call * 1000:8.3f} ms (zeep client built from the WSDL)"
            )
            report("offline", timings(lambda: parse_vat_number(number, country), args.n))
            before = responder.request_count
            report("cache hit", timings(lambda: validate_vat(number, country), args.n))
            assert responder.request_count == before, "a cache hit reached the responder"
            report(
                "responder",
                timings(lambda: validate_vat(number, country, use_cache=False), args.n),
            )
            report("check_vat", timings(lambda: check_vat("DE", "812345673"), args.n))


if __name__ == "__main__":
    main()
