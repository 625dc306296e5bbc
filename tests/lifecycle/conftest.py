"""Fixtures of the subscription lifecycle tests: the checkout tests' (in-memory provider, plans,
API clients)."""

from __future__ import annotations

from tests.checkout.conftest import (  # noqa: F401
    _empty_cache,
    api,
    locmem,
    monthly,
    other_api,
    yearly,
)
from tests.checkout.test_emulator_e2e import shop  # noqa: F401
