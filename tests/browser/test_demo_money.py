"""The demo's money features in a real browser: a promotion code at checkout, a one-off item
refunded from the admin, a usage meter on the account page and a page gated by a plan's feature.
The stack bills through the Stripe emulator, whose backend has every capability."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_demo import expect, pay, sign_up, start_checkout

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Locator, Page

    from tests.browser.conftest import Shot
    from tests.browser.stack import DemoStack

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def reload_until(page: Page, locator: Locator, attribute: str, value: str) -> None:
    """Reload until ``locator`` has ``attribute`` = ``value``: it arrives through a webhook."""
    for _ in range(60):
        if locator.count() and locator.first.get_attribute(attribute) == value:
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(locator.first).to_have_attribute(attribute, value)


def test_a_promotion_code_at_checkout_discounts_the_order(
    page: Page, shot: Shot, demo: DemoStack
) -> None:
    sign_up(page)
    page.goto("/pricing/")
    code = page.get_by_label("Promotion code")
    code.fill("NOT-A-CODE")
    page.get_by_role("button", name="Subscribe to Team").click()
    # The API's own reason, shown as it says it.
    expect(page.locator("#checkout-error")).to_have_text(
        "Checkout could not start: There is no promotion code 'NOT-A-CODE'."
    )
    shot("pricing-unknown-code")
    code.fill("welcome20")  # compared without regard to case
    page.get_by_role("button", name="Subscribe to Team").click()
    page.wait_for_url(f"{demo.stripe_url}/**")
    expect(page.locator("#total")).to_contain_text("23.20 EUR")  # 29.00 EUR less 20%
    shot("provider-checkout-discounted")
    pay(page)
    page.goto("/account/")
    order = page.locator(".order")
    reload_until(page, order, "data-status", "paid")
    expect(order.first.locator(".discount")).to_have_text("WELCOME20: \N{MINUS SIGN}5.80 EUR")
    expect(order.first).to_contain_text("23.20 EUR")
    shot("account-order-with-discount")


def admin_page(chromium: Browser, demo: DemoStack) -> Page:
    """The demo user (staff) logged into the admin, in a browser context of its own."""
    context = chromium.new_context(base_url=demo.site_url, viewport={"width": 1600, "height": 900})
    context.set_default_timeout(15_000)
    admin = context.new_page()
    admin.goto("/admin/login/")
    admin.get_by_label("Username").fill("demo@example.com")
    admin.get_by_label("Password").fill("demo-password")
    admin.get_by_role("button", name="Log in").click()
    expect(
        admin.get_by_role("link", name="Log out").or_(admin.locator("#logout-form"))
    ).to_be_visible()
    return admin


def refund_in_admin(
    admin: Page, order_id: str, amount: str, screenshot: Path | None = None
) -> None:
    admin.goto("/admin/django_payments_sync/order/")
    admin.locator(f"input[name='_selected_action'][value='{order_id}']").check()
    admin.locator("select[name='action']").select_option("refund_orders")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_role("heading", name="Refund orders")).to_be_visible()
    row = admin.locator(".refund-row")
    expect(row).to_contain_text(f"#{order_id}")
    if screenshot:
        expect(row).to_contain_text("49.00 EUR")  # money, not 4900
        admin.screenshot(path=screenshot, full_page=True)
    admin.get_by_label("Amount (minor units)").fill(amount)
    admin.get_by_label("Reason").select_option("requested_by_customer")
    admin.get_by_role("button", name="Yes, refund").click()
    expect(admin.locator(".messagelist")).to_contain_text("1 order refunded.")


def test_a_one_off_item_refunded_in_part_then_in_full_from_the_admin(
    page: Page, shot: Shot, demo: DemoStack, chromium: Browser
) -> None:
    sign_up(page)
    page.goto("/pricing/")
    expect(page.locator(".one-off")).to_contain_text("49.00 EUR, once")
    page.get_by_role("button", name="Buy the onboarding session").click()
    page.wait_for_url(f"{demo.stripe_url}/**")
    expect(page.locator("#total")).to_contain_text("49.00 EUR")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/account/?purchase=done")
    order = page.locator(".order", has_text="Onboarding session")
    reload_until(page, order, "data-status", "paid")
    order_id = order.first.get_attribute("data-order") or ""
    screenshots = shot("account-one-off-paid").parent

    admin = admin_page(chromium, demo)
    try:
        refund_in_admin(admin, order_id, "1500", screenshots / "admin-refund-confirmation.png")
        reload_until(page, order, "data-status", "partially_refunded")
        expect(order.first).to_contain_text("15.00 EUR")
        expect(order.first).to_contain_text("Partially refunded")
        shot("account-partially-refunded")
        refund_in_admin(admin, order_id, "")  # all that is left
        reload_until(page, order, "data-status", "refunded")
        expect(order.first).to_contain_text("49.00 EUR")
        shot("account-refunded")
    finally:
        admin.context.close()


def counted_at_the_provider(demo: DemoStack) -> float:
    """What the emulator's meter counted for its newest customer (this test's team)."""
    import time

    import stripe

    from django_payments_sync.testing.stripe_emulator import DEFAULT_API_KEY

    client = stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": demo.stripe_url})
    meter = next(m for m in client.v1.billing.meters.list().data if m.event_name == "api_calls")
    customer = client.v1.customers.list({"limit": 1}).data[0]
    hour = int(time.time()) // 3600 * 3600  # a wide window: the emulator's clock may run ahead
    summary = client.v1.billing.meters.event_summaries.list(
        meter.id,
        {"customer": customer.id, "start_time": hour - 90 * 86400, "end_time": hour + 90 * 86400},
    )
    return sum(float(s.aggregated_value) for s in summary.data)


def test_the_usage_meter_on_the_account_page(page: Page, shot: Shot, demo: DemoStack) -> None:
    sign_up(page)
    page.goto("/account/")
    expect(page.locator(".usage-none")).to_have_text("Nothing used yet this period.")
    button = page.get_by_role("button", name="Make an API call")
    button.click()
    expect(page.get_by_text("One API call recorded.")).to_be_visible()
    usage = page.locator(".usage", has_text="API calls")
    expect(usage).to_have_attribute("data-value", "1")
    page.get_by_role("button", name="Make an API call").click()
    expect(usage).to_have_attribute("data-value", "2")
    # Sent to the provider's meter at once: nothing waits in the outbox.
    expect(usage).not_to_contain_text("not sent")
    expect(usage).to_contain_text(re.compile(r"API calls: 2\s+since"))
    shot("account-usage")
    # The provider's meter has them too, each counted once.
    assert counted_at_the_provider(demo) == 2


def test_single_sign_on_needs_the_business_plan(page: Page, shot: Shot, demo: DemoStack) -> None:
    sign_up(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Single sign-on")).to_have_count(0)
    answer = page.goto("/sso/")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Not in your plan")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Your plan does not include Single sign-on.")
    shot("sso-forbidden")
    start_checkout(page, demo, plan="Business")
    pay(page)
    page.goto("/account/")
    link = nav.get_by_role("link", name="Single sign-on")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url("**/sso/")
    expect(page.get_by_role("heading", name="Single sign-on")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("plan includes single sign-on")
    shot("sso-open")
