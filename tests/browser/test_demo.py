"""The demo in a real browser: sign-up, billing and VAT, checkout, decline, portal, admin, a11y."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the chromium fixture skips (or, in CI, fails) saying why
    expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import Shot
    from tests.browser.stack import DemoStack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Another EU member state than the demo's seller (DE), valid at the local VIES stand-in.
EU_VAT_NUMBER = "FR40303265045"


# --- steps shared by the flows ----------------------------------------------------------------


def sign_up(page: Page, shot: Shot | None = None) -> str:
    """A new account through the sign-up form, with the keyboard only; returns its email."""
    tag = uuid.uuid4().hex[:8]
    email = f"browser-{tag}@example.com"
    page.goto("/signup/")
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Team name")).to_be_focused()
    page.keyboard.type(f"Browser {tag}")
    page.keyboard.press("Tab")
    page.keyboard.type("Correct-horse-42")
    page.keyboard.press("Tab")
    page.keyboard.type("Correct-horse-42")
    if shot:
        shot("sign-up-form")
    page.keyboard.press("Enter")
    page.wait_for_url("**/pricing/")
    return email


def start_checkout(page: Page, demo: DemoStack, plan: str = "Team") -> None:
    page.goto("/pricing/")
    page.get_by_role("button", name=f"Subscribe to {plan}").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.stripe_url}/**")
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()


def pay(page: Page) -> None:
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/checkout/success/")
    expect(page.locator("#subscription-status")).to_have_attribute(
        "data-status", "active", timeout=30_000
    )


# --- the flows --------------------------------------------------------------------------------


def test_sign_up_and_pricing(page: Page, shot: Shot) -> None:
    sign_up(page, shot)
    plans = page.locator(".plan")
    expect(plans).to_have_count(3)
    expect(page.locator("#plans")).to_contain_text("/ month")
    shot("pricing-monthly")
    # The billing period is a radio group: arrow keys switch it.
    page.get_by_label("Monthly").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Yearly")).to_be_checked()
    expect(page.locator("#plans")).to_contain_text("/ year")
    shot("pricing-yearly")


def test_billing_details_with_eu_vat_number_get_reverse_charge(page: Page, shot: Shot) -> None:
    sign_up(page)
    page.goto("/billing/")
    expect(page.locator("#load-status")).to_contain_text("No billing details yet")
    # The whole form with the keyboard: Tab from field to field, type, Enter to save.
    page.get_by_label("Name or company").focus()
    for value in ["Browser Test SAS", "billing@example.com", "12 rue de la Paix", ""]:
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    for value in ["75002", "Paris", ""]:
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    country = page.get_by_label("Country", exact=True)
    expect(country).to_be_focused()
    page.keyboard.type("France")  # a select picks its option by typing
    expect(country).to_have_value("FR")
    page.keyboard.press("Tab")
    expect(page.get_by_label("VAT number")).to_be_focused()
    page.keyboard.type(EU_VAT_NUMBER)
    vat_result = page.locator("#vat-result")
    expect(vat_result).to_have_attribute("data-status", "valid", timeout=20_000)
    expect(vat_result).to_contain_text("Valid VAT number: Exemple Conseil SAS")
    shot("vat-number-checked-live")
    page.keyboard.press("Enter")
    expect(page.locator("#save-result")).to_contain_text("Billing details saved")
    treatment = page.locator("#tax-treatment")
    expect(treatment).to_have_attribute("data-treatment", "reverse")
    expect(treatment).to_contain_text("Reverse charge")
    shot("saved-reverse-charge")
    # The saved details come back from the API on the next visit.
    page.reload()
    expect(page.get_by_label("VAT number")).to_have_value(EU_VAT_NUMBER)
    expect(treatment).to_contain_text("Reverse charge")


def test_subscribe_pay_and_land_on_active_subscription(
    page: Page, shot: Shot, demo: DemoStack
) -> None:
    sign_up(page)
    page.goto("/pricing/")
    shot("pricing")
    start_checkout(page, demo)
    expect(page.locator("#total")).to_contain_text("29.00 EUR")
    shot("provider-checkout-page")
    pay(page)
    expect(page.locator("#subscription-status")).to_contain_text("Team: active")
    shot("success-subscription-active")
    page.goto("/pricing/")
    expect(page.locator(".plan", has_text="Team")).to_contain_text("Your current plan (active).")
    expect(page.get_by_role("button", name=re.compile(r"^Subscribe to "))).to_have_count(0)
    shot("pricing-current-plan")
    page.goto("/account/")
    expect(page.locator(".subscription")).to_have_attribute("data-status", "active")
    invoice_link = page.get_by_role("link", name=re.compile(r"^View invoice "))
    expect(invoice_link.first).to_be_visible()
    shot("account-with-invoice")
    invoice_link.first.click()
    page.wait_for_url(f"{demo.stripe_url}/i/**")
    expect(page.locator("#status")).to_contain_text("paid")
    shot("provider-invoice")


def test_declined_card_shows_a_clear_message(page: Page, shot: Shot, demo: DemoStack) -> None:
    sign_up(page)
    start_checkout(page, demo)
    page.get_by_role("button", name="Pay with a declined card").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Your card was declined.")
    shot("card-declined")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/pricing/?checkout=canceled")
    expect(page.get_by_text("Checkout canceled: nothing was charged.")).to_be_visible()
    shot("back-on-pricing-after-cancel")


def test_portal_cancel_arrives_through_webhooks(page: Page, shot: Shot, demo: DemoStack) -> None:
    sign_up(page)
    start_checkout(page, demo)
    pay(page)
    page.goto("/account/")
    page.get_by_role("button", name="Manage billing").click()
    page.wait_for_url(f"{demo.stripe_url}/p/session/**")
    expect(page.get_by_role("heading", name="Billing portal")).to_be_visible()
    shot("provider-portal")
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator(".subscription")).to_contain_text("cancels at period end")
    shot("provider-portal-canceled")
    page.get_by_role("link", name="Return").click()
    page.wait_for_url("**/account/")
    subscription = page.locator(".subscription")
    # The portal's change reaches the site through a webhook: reload until it has arrived.
    for _ in range(60):
        if subscription.get_attribute("data-cancel-at-period-end") == "true":
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(subscription).to_have_attribute("data-cancel-at-period-end", "true")
    expect(page.locator(".cancellation")).to_contain_text("Cancels at the end of the period")
    shot("account-cancellation-arrived")


def test_admin_lists_the_webhook_events(page: Page, shot: Shot, demo: DemoStack) -> None:
    sign_up(page)
    start_checkout(page, demo)
    pay(page)
    page.context.clear_cookies()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("demo@example.com")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Log in").click()
    page.set_viewport_size({"width": 1600, "height": 900})
    page.goto("/admin/django_payments_sync/webhookevent/")
    results = page.locator("#result_list")
    for event_type in ("checkout.session.completed", "customer.subscription.created"):
        row = results.locator("tr", has_text=event_type).first
        expect(row).to_contain_text("Processed")
    shot("admin-webhook-event-log")


@pytest.mark.parametrize("path", ["/signup/", "/login/", "/billing/", "/pricing/", "/account/"])
def test_every_field_has_a_label(page: Page, path: str) -> None:
    if path in ("/billing/", "/account/"):
        sign_up(page)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    unlabeled = page.evaluate(
        """() => Array.from(document.querySelectorAll("input, select, textarea"))
            .filter((el) => !["hidden", "submit", "button"].includes(el.type))
            .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
            .map((el) => el.name || el.id || el.outerHTML.slice(0, 80))"""
    )
    assert unlabeled == [], f"fields without a label on {path}: {unlabeled}"


def wait_for(page: Page, locator: Any, attempts: int = 60) -> None:
    """Reload until ``locator`` shows: what it shows arrives through a webhook."""
    for _ in range(attempts):
        if locator.count():
            return
        page.wait_for_timeout(500)
        page.reload()


def test_seats_preview_pause_and_invoices_on_the_account_page(
    page: Page, shot: Shot, demo: DemoStack
) -> None:
    """The lifecycle on the account page: the preview before a change of seats, the change,
    the pause and resume buttons, and the invoice list with its PDF link."""
    sign_up(page)
    start_checkout(page, demo)
    pay(page)
    page.goto("/account/")
    box = page.locator(".lifecycle")
    box.get_by_label("Seats").fill("3")
    box.get_by_role("button", name="Preview the change").click()
    expect(box.locator(".preview")).to_contain_text("Next invoice:")
    shot("account-seats-preview")
    box.get_by_role("button", name="Change seats").click()
    expect(box.get_by_role("status")).to_have_text("Seats changed to 3.")
    box.get_by_role("button", name="Pause payments").click()
    expect(box.get_by_role("status")).to_have_text("Payments paused.")
    paused = page.locator(".paused")
    wait_for(page, paused)
    expect(paused).to_contain_text("Payments paused")
    shot("account-paused")
    page.locator(".lifecycle").get_by_role("button", name="Resume payments").click()
    expect(page.locator(".lifecycle").get_by_role("status")).to_have_text("Payments resumed.")
    invoice_link = page.get_by_role("link", name=re.compile(r"^View invoice "))
    wait_for(page, invoice_link)
    expect(page.get_by_role("link", name="PDF").first).to_be_visible()
    shot("account-invoices")


def renew_with_a_card_that_needs_authentication(demo: DemoStack) -> None:
    """The newest customer's card now needs 3-D Secure, and its period ends (the emulator's
    clock moves on a month and a day)."""
    import requests
    import stripe

    from django_payments_sync.testing.stripe_emulator import DEFAULT_API_KEY

    card = "pm_card_authenticationRequired"
    client = stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": demo.stripe_url})
    customer = client.v1.customers.list({"limit": 1}).data[0]
    client.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": card}})
    for subscription in client.v1.subscriptions.list({"customer": customer.id}).data:
        client.v1.subscriptions.update(subscription.id, {"default_payment_method": card})
    advanced = requests.post(
        f"{demo.stripe_url}/_emulator/clock/advance", json={"seconds": 32 * 86400}, timeout=30
    )
    assert advanced.status_code == 200, advanced.text


def test_an_action_required_banner_links_the_hosted_page(
    page: Page, shot: Shot, demo: DemoStack
) -> None:
    """A renewal whose card needs authentication: the banner's link leads to the provider's
    page, where the customer confirms; the banner goes."""
    sign_up(page)
    start_checkout(page, demo)
    pay(page)
    renew_with_a_card_that_needs_authentication(demo)
    page.goto("/account/")
    banner = page.locator(".action-banner")
    wait_for(page, banner)
    expect(banner).to_contain_text("Action required")
    shot("account-action-required")
    banner.get_by_role("link", name="Confirm the payment").click()
    page.wait_for_url(f"{demo.stripe_url}/i/**")
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.locator("#result")).to_contain_text("the invoice is paid")
    page.goto("/account/")
    for _ in range(60):
        if not page.locator(".action-banner").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(".action-banner")).to_have_count(0)
    shot("account-action-done")
