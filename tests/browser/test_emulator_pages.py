"""The emulator's hosted pages in Chromium, at a phone's and a desktop's width.

No demo here: the SDK creates the objects on the session's emulator and the browser opens their
pages. Each page must fit its viewport (no sideways scrolling), load nothing from elsewhere,
show what is bought (product, amounts in the currency's decimals, dates) and run no script a
product name smuggles in. Screenshots go to the test's tmp dir (``--basetemp`` to keep them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the chromium fixture skips (or, in CI, fails) saying why
    expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import stripe
    from playwright.sync_api import Browser, Dialog, Page, Request, ViewportSize

    from django_payments_sync.testing.stripe_emulator import StripeEmulator

pytestmark = pytest.mark.browser

VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1280, "height": 900},
}
EVIL = "<script>alert('pwned')</script><img src=x onerror=alert(1)> Team"
LONG = "Enterprise-grade-observability-platform-with-a-very-long-unbreakable-name-for-teams"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def browser_page(
    chromium: Browser, stripe_emulator: StripeEmulator, viewport: str
) -> Iterator[Page]:
    context = chromium.new_context(viewport=VIEWPORTS[viewport], locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    elsewhere: list[str] = []
    dialogs: list[str] = []

    def request(request: Request) -> None:
        if not request.url.startswith(stripe_emulator.url):
            elsewhere.append(request.url)

    def dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("request", request)
    page.on("dialog", dialog)
    yield page
    context.close()
    assert elsewhere == [], f"the page loaded something from elsewhere: {elsewhere}"
    assert dialogs == [], f"a script ran on the page: {dialogs}"


def _fits(page: Page) -> None:
    overflow = page.evaluate(
        """() => ({doc: document.documentElement.scrollWidth, view: window.innerWidth,
            wide: Array.from(document.querySelectorAll("body *"))
              .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5
                || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== "inline")
              .map((el) => el.tagName + "." + el.className).slice(0, 5)})"""
    )
    assert overflow["doc"] <= overflow["view"], f"horizontal overflow: {overflow}"
    assert overflow["wide"] == [], f"elements past the right edge: {overflow}"


def _shot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 5_000  # a rendered page, not a blank image
    return path


def _price(client: stripe.StripeClient, name: str, amount: int, currency: str, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "currency": currency,
        "unit_amount": amount,
        "product_data": {"name": name},
        "recurring": {"interval": "month"},
        **extra,
    }
    return client.v1.prices.create(params)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("currency", "amount", "shown", "total"),
    [
        ("eur", 2900, "29.00 EUR", "116.00 EUR"),
        ("jpy", 4500, "4,500 JPY", "18,000 JPY"),
        ("krw", 39000, "39,000 KRW", "156,000 KRW"),
    ],
)
def test_checkout_page_fits_and_reads_like_a_checkout(
    browser_page: Page,
    stripe_emulator: StripeEmulator,
    tmp_path: Path,
    viewport: str,
    currency: str,
    amount: int,
    shown: str,
    total: str,
) -> None:
    client = stripe_emulator.client()
    plan = _price(client, "Team", amount, currency, nickname="Team monthly")
    seats = client.v1.prices.create(
        {"currency": currency, "unit_amount": amount, "product_data": {"name": LONG}}
    )
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": plan.id, "quantity": 1}, {"price": seats.id, "quantity": 3}],
            "success_url": "https://shop.example/ok",
            "customer_email": "buyer@example.com",
        }
    )
    page = browser_page
    page.goto(str(session.url))
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_role("heading", name="Subscribe to Team and 1 more")).to_be_visible()
    summary = page.get_by_role("complementary", name="Order summary")
    expect(summary).to_contain_text("Team monthly · Billed monthly")
    expect(summary).to_contain_text(LONG)
    expect(summary).to_contain_text(f"{shown} each")
    expect(summary).to_contain_text(f"Then {shown} per month")  # the one-time line is due once
    expect(page.locator("#total")).to_have_text(total)
    expect(summary.get_by_role("row", name="Tax")).to_be_visible()
    expect(page.get_by_role("button", name="Pay", exact=True)).to_be_visible()
    _fits(page)
    _shot(page, tmp_path, f"checkout-{currency}-{viewport}")
    page.get_by_role("button", name="Pay with a declined card").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    _fits(page)
    _shot(page, tmp_path, f"checkout-declined-{currency}-{viewport}")


def test_a_product_name_with_markup_is_shown_as_text(
    browser_page: Page, stripe_emulator: StripeEmulator, tmp_path: Path
) -> None:
    client = stripe_emulator.client()
    price = _price(client, EVIL, 1200, "eur")
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://shop.example/ok",
        }
    )
    browser_page.goto(str(session.url))
    expect(browser_page.locator(".ps-name")).to_have_text(EVIL)
    assert browser_page.locator("img, body script").count() == 0
    _fits(browser_page)


def test_portal_and_invoice_pages_fit(
    browser_page: Page, stripe_emulator: StripeEmulator, tmp_path: Path, viewport: str
) -> None:
    client = stripe_emulator.client()
    customer = client.v1.customers.create(
        {
            "email": "ada@example.com",
            "name": "Ada Lovelace Analytical Engines Ltd",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    basic = _price(client, "Basic", 1000, "eur", nickname="Basic monthly")
    _price(client, LONG, 250000, "eur", nickname="Enterprise")
    sub = client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": basic.id}]})
    portal = client.v1.billing_portal.sessions.create(
        {"customer": customer.id, "return_url": "https://shop.example/account"}
    )
    page = browser_page
    page.goto(str(portal.url))
    expect(page.get_by_role("heading", name="Billing portal")).to_be_visible()
    subscription = page.locator(".subscription")
    expect(subscription).to_contain_text("Basic")
    expect(subscription).to_contain_text("10.00 EUR per month")
    expect(subscription).to_contain_text("Renews on ")
    expect(page.get_by_label("Switch to")).to_contain_text("2,500.00 EUR per month")
    expect(page.locator("#payment-method")).to_contain_text("Visa ending in 4242")
    _fits(page)
    _shot(page, tmp_path, f"portal-{viewport}")
    page.get_by_role("button", name="Cancel subscription").click()
    expect(subscription).to_contain_text("cancels at period end")
    expect(subscription).to_contain_text("Ends on ")
    invoice = client.v1.invoices.retrieve(str(sub.latest_invoice))
    page.get_by_role("link", name=f"Invoice {invoice.number}").click()
    expect(page.get_by_role("heading", name="Invoice")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Status: paid")
    expect(page.get_by_role("cell", name="Basic")).to_be_visible()
    expect(page.locator("#total")).to_have_text("10.00 EUR")
    expect(page.get_by_text("Billed to")).to_be_visible()
    _fits(page)
    _shot(page, tmp_path, f"invoice-{viewport}")
