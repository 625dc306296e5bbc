"""Fixtures of the money-and-access tests: the checkout tests' own (in-memory provider, plans,
logged-in API clients)."""

from tests.checkout.conftest import (  # noqa: F401 (fixtures)
    _empty_cache,
    api,
    locmem,
    monthly,
    one_time,
    other_api,
    yearly,
)
