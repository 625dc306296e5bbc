"""Fixtures of the browser tests: Debian's Chromium through Playwright, and the demo stack."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.stack import ROOT, DemoStack, StackError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("PAYMENTS_SYNC_CHROMIUM", "/usr/bin/chromium"))
#: Headless and quiet: no sandbox (containers), no GPU, and no calls home of any kind.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

Shot = Callable[[str], Path]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Playwright package is not installed (pip install -e '.[browser]')"
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (scripts/install-browser installs it)"
    return None


#: Whether a test's call phase failed (read by the ``page`` fixture for a failure screenshot).
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    reason = browser_missing()
    if reason:
        if os.environ.get("PAYMENTS_SYNC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PAYMENTS_SYNC_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo(chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    """The offline demo: emulator, VIES stand-in, migrated and seeded site, webhook endpoint."""
    stack = DemoStack(tmp_path_factory.mktemp("demo"))
    try:
        stack.start()
    except StackError as exc:
        stack.stop()
        pytest.fail(f"The demo did not start: {exc}", pytrace=False)
    yield stack
    stack.stop()


@pytest.fixture
def page(chromium: Browser, demo: DemoStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = chromium.new_context(
        base_url=demo.site_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(CALL_FAILED, False):
        directory = SCREENSHOTS / request.node.name
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=directory / "FAILED.png", full_page=True)
        print(f"Site log at the failure:\n{demo.site_log()}")
    context.close()


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Shot:
    """``shot("step")`` saves a full-page screenshot as ``<test>/<nn>-<step>.png``."""
    directory = SCREENSHOTS / re.sub(r"[^\w.-]", "_", request.node.name)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    count = 0

    def take(step: str) -> Path:
        nonlocal count
        count += 1
        path = directory / f"{count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take
