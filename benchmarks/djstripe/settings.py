"""Settings of the dj-stripe project: startproject's defaults plus dj-stripe, as its docs say."""

import os

from benchmarks.harness.site import base_settings

globals().update(base_settings("benchmarks.djstripe.urls", ["djstripe"]))

# dj-stripe's documented settings. STRIPE_API_HOST is how dj-stripe is pointed elsewhere than
# api.stripe.com: it sets the global ``stripe.api_base`` (here, the emulator).
STRIPE_LIVE_MODE = False
STRIPE_TEST_SECRET_KEY = os.environ.get(
    "BENCH_STRIPE_KEY", "sk_test_51BenchmarkKey000000000000000000"
)
STRIPE_API_HOST = os.environ.get("BENCH_STRIPE_API_BASE", "http://127.0.0.1:12111")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
