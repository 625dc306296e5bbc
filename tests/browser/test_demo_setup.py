"""The demo's set-up as `scripts/demo` does it: seeding twice changes nothing, no drift remains."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.browser.stack import DemoStack

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_seed_demo_is_idempotent_and_the_catalog_matches_the_provider(demo: DemoStack) -> None:
    again = demo.manage("seed_demo")
    assert "(0 new prices)" in again
    assert "already there" in again
    # What the seed saved reached the emulator (through autosync and `payments_sync push`).
    assert "No drift" in demo.manage("payments_sync", "diff")
