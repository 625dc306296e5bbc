"""The demo's customer journey on Paddle Billing: the same steps over HTTP, on the Paddle
emulator's hosted pages, with a plan change through the library's API before the cancellation.

What differs from Stripe's (``journey.Journey``): Paddle's checkout page takes the payment and
sends the customer back to the success page with ``_ptxn``; its invoices have no hosted page
(the account page lists them, from the provider); its portal cancels at the period's end and has
no link back to the site; its notification types are Paddle's own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from demo_site.journey import Journey, JourneyFailed, listed

#: Paddle's notification types the admin's event log must list: the checkout's payment and
#: the subscription's change.
PADDLE_EXPECTED_EVENTS = ("transaction.completed", "transaction.paid", "subscription.updated")
#: The plan the customer changes to, from the Team plan bought at checkout.
CHANGE_TO = "Business"


def button(page_url: str, action: str) -> str:
    """Where a button of a Paddle page posts: ``{path}/{action}``, with the page's query (the
    emulator's checkout link carries ``_ptxn`` and the ``return_url`` there)."""
    parts = urlsplit(page_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{action}"))


def transaction_of(page_url: str) -> str:
    """The transaction a checkout link opens (``.../checkout/txn_...``)."""
    return urlsplit(page_url).path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class PaddleJourney(Journey):
    """A customer going through the demo billed by Paddle (``provider_url``: the emulator)."""

    expected_events: tuple[str, ...] = PADDLE_EXPECTED_EVENTS

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        steps = super().steps()
        at = next(i for i, (name, _) in enumerate(steps) if name == "portal: cancel")
        steps.insert(at, ("change plan", self.change_plan))
        steps.insert(at + 1, ("webhooks: plan change", self.wait_for_plan_change))
        steps.insert(at + 2, ("feature gate: /sso/ on Business", self.check_feature_opens))
        return steps

    def check_feature_opens(self) -> str:
        """On the Business plan /sso/ opens, and the navigation links it."""
        page = self.expect(self.browser.get(self.url("/sso/"), timeout=10), 200)
        if "plan includes single sign-on" not in page:
            raise JourneyFailed("/sso/ does not say the plan includes single sign-on")
        if 'href="/sso/"' not in page:
            raise JourneyFailed("the navigation does not link /sso/ on the Business plan")
        return f"/sso/ opens on {CHANGE_TO}, linked in the navigation"

    def pay_with_declined_card(self) -> str:
        url = self.state["checkout_url"]
        page = self.expect(self.provider_browser.get(url, timeout=10), 200)
        if "Pay" not in page:
            raise JourneyFailed("the checkout page offers no Pay button")
        declined = self.provider_browser.post(
            button(url, "decline"), allow_redirects=False, timeout=10
        )
        if declined.status_code != 402:
            raise JourneyFailed(
                f"a declined card answered {declined.status_code}, not a decline message"
            )
        # The transaction stays ready: the customer may pay again on the same page.
        if "data-status='ready'" not in declined.text:
            raise JourneyFailed("after a declined card the transaction is no longer payable")
        message = re.search(r"id='error'[^>]*>(.*?)</", declined.text, re.S)
        if not message:
            raise JourneyFailed("the checkout page shows no message after a declined card")
        said = message.group(1).strip().rstrip(".")
        return f"the checkout page says: {said}; the transaction stays ready"

    def pay(self) -> str:
        url = self.state["checkout_url"]
        paid = self.provider_browser.post(button(url, "pay"), allow_redirects=False, timeout=10)
        if paid.status_code not in (302, 303) or "Location" not in paid.headers:
            raise JourneyFailed(f"paying answered {paid.status_code}: {paid.text[:200]}")
        landing = paid.headers["Location"]
        if not landing.startswith(self.site_url):
            raise JourneyFailed(f"the provider sent the customer to {landing}, not to the site")
        # Paddle sends the customer back with the transaction's id (`_ptxn`).
        txn = parse_qs(urlsplit(landing).query).get("_ptxn", [""])[0]
        if txn != transaction_of(url):
            raise JourneyFailed(f"the success page got _ptxn={txn!r}, not the paid transaction")
        page = self.expect(self.browser.get(landing, timeout=10), 200)
        if "Thank you" not in page:
            raise JourneyFailed(f"{landing} is not the success page")
        return f"paid {txn}; back on {urlsplit(landing).path}"

    def check_invoices(self) -> str:
        # Paddle's transactions carry no hosted invoice page: the account page lists them.
        account = self.expect(self.browser.get(self.url("/account/"), timeout=10), 200)
        rows = re.findall(r'<tr class="invoice">(.*?)</tr>', account, re.S)
        if not rows:
            raise JourneyFailed("the account page lists no invoice")
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
        ]
        if len(cells) < 4 or cells[2].lower() != "paid":
            raise JourneyFailed(f"the first invoice is not paid: {cells}")
        # Paddle, the merchant of record, reverse-charges the EU business: no VAT on the price.
        price = self.state["price"]
        net = f"{price['amount'] / 100:.2f}"
        if not cells[3].startswith(net):
            raise JourneyFailed(
                f"Paddle charged {cells[3]}, not {net} without VAT (the reverse charge)"
            )
        return f"{len(rows)} invoice(s); {cells[1]} is paid, {cells[3]}: Paddle reverse-charged"

    def change_plan(self) -> str:
        plans = self.expect(self.api("GET", "/api/payment/plans/"), 200)
        plan = next((p for p in plans if p["name"] == CHANGE_TO), None)
        if plan is None:
            raise JourneyFailed(f"no {CHANGE_TO} plan to change to")
        price = next(p for p in plan["prices"] if p["interval"] == "month")
        subscription = self.state["subscription"]
        # Counted before the change: its notification may reach the site before PATCH answers.
        self.state["updates_before"] = self.accepted("subscription.updated")
        changed = self.expect(
            self.api(
                "PATCH",
                f"/api/payment/subscriptions/{subscription['id']}/",
                {"pricing": price["id"], "quantity": 2},
            ),
            200,
        )
        if (changed["pricing"], changed["quantity"]) != (price["id"], 2):
            raise JourneyFailed(f"the change answered {changed}")
        self.state["changed_to"] = price
        return (
            f"subscription {subscription['id']} -> {CHANGE_TO} monthly x 2 "
            f"({price['amount'] / 100:.2f} {price['currency'].upper()} each, pricing {price['id']})"
        )

    def wait_for_plan_change(self) -> str:
        began = time.monotonic()
        price = self.state["changed_to"]

        def changed() -> dict[str, Any] | None:
            found = self.live_subscription()
            ok = found and (found["pricing"], found["quantity"]) == (price["id"], 2)
            return found if ok else None

        subscription = self.wait_until("the plan change", changed)
        # Paddle's notification of it reached the site and was accepted.
        before = self.state["updates_before"]
        self.wait_until(
            "a subscription.updated notification after the change",
            lambda: self.accepted("subscription.updated") > before,
        )
        # Paddle's word on it: its portal shows the new plan.
        portal = self.expect(self.api("POST", "/api/payment/billing/portal/", {}), 200, 201)
        page = self.expect(
            self.provider_browser.get(self.provider_page(portal["url"]), timeout=10), 200
        )
        if f"<dd>{CHANGE_TO}</dd>" not in page:
            raise JourneyFailed(f"Paddle's portal does not show the {CHANGE_TO} plan")
        orders = listed(self.expect(self.api("GET", "/api/payment/orders/"), 200))
        return (
            f"subscription {subscription['id']} is {subscription['product']} x 2 here and at "
            f"Paddle after {time.monotonic() - began:.1f} s ({len(orders)} order(s))"
        )

    def accepted(self, event_type: str) -> int:
        """How many notifications of ``event_type`` the site has accepted (answered 2xx)."""
        response = self.provider_browser.get(
            f"{self.provider_url}/_emulator/deliveries", timeout=10
        )
        attempts = self.expect(response, 200)["deliveries"]
        return len(
            {
                a.get("event")
                for a in attempts
                if a.get("type") == event_type and 200 <= int(a.get("status") or 0) < 300
            }
        )

    def cancel_in_portal(self) -> str:
        portal = self.expect(self.api("POST", "/api/payment/billing/portal/", {}), 200, 201)
        url = self.provider_page(portal["url"])
        page = self.expect(self.provider_browser.get(url, timeout=10), 200)
        found = re.search(r"name='subscription' value='([^']+)'", page)
        if not found:
            raise JourneyFailed("the portal shows no subscription to cancel")
        canceled = self.provider_browser.post(
            button(url, "cancel"), data={"subscription": found.group(1)}, timeout=10
        )
        page = self.expect(canceled, 200)
        scheduled = re.search(r"<dt>Scheduled</dt><dd>(cancels on [^<]+)</dd>", page)
        if not scheduled:
            raise JourneyFailed("the portal does not show the scheduled cancellation")
        # Paddle's portal has no return URL: it links to the seller's website itself.
        return f"{found.group(1)} {scheduled.group(1)} (Paddle's portal has no link back)"
