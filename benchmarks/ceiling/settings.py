"""Settings of the ceiling project: startproject's defaults plus one app."""

import os

from benchmarks.harness.site import base_settings

globals().update(base_settings("benchmarks.ceiling.urls", ["benchmarks.ceiling"]))
STRIPE_WEBHOOK_SECRET = os.environ.get("BENCH_WEBHOOK_SECRET", "whsec_benchmark")
