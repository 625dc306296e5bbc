"""The demo's whole customer journey, headless over HTTP against a running site and the emulator."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests

#: A VAT number of another EU member state than the demo's seller (DE) that the local VIES
#: stand-in answers as valid: reverse charge.
DEFAULT_VAT_NUMBER = "FR40303265045"
DEFAULT_VAT_COUNTRY = "FR"
ADMIN_LOGIN = ("demo@example.com", "demo-password")
#: The webhook events the journey must see applied, in the admin's event log.
EXPECTED_EVENTS = ("checkout.session.completed", "customer.subscription.updated")


def listed(answer: Any) -> list[dict[str, Any]]:
    """The items of an API list answer, paginated (``{"results": [...]}``) or not."""
    return list(answer.get("results", [])) if isinstance(answer, dict) else list(answer)


class Output(Protocol):
    """Where the journey reports: a text stream, or a management command's ``stdout``."""

    def write(self, text: str) -> Any: ...

    def flush(self) -> Any: ...


class JourneyFailed(Exception):
    """A step did not see what it expected; the message says what it saw instead."""


@dataclass
class StepResult:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Journey:
    """A customer going through the demo: sign up, billing, checkout, pay, portal, cancel.

    ``site_url`` is the demo site, ``provider_url`` the Stripe emulator (its hosted pages and
    ``/_emulator/`` controls). Every step talks HTTP, like a browser or the provider would.
    """

    site_url: str
    provider_url: str
    out: Output
    vat_number: str = DEFAULT_VAT_NUMBER
    vat_country: str = DEFAULT_VAT_COUNTRY
    wait_seconds: float = 30.0
    results: list[StepResult] = field(default_factory=list)
    #: The webhook event types the admin's event log must list.
    expected_events: tuple[str, ...] = EXPECTED_EVENTS

    def __post_init__(self) -> None:
        self.site_url = self.site_url.rstrip("/")
        self.provider_url = self.provider_url.rstrip("/")
        # The customer's browser: one cookie jar for the site, one for the provider's pages.
        self.browser = requests.Session()
        self.provider_browser = requests.Session()
        self.tag = uuid.uuid4().hex[:8]
        self.email = f"journey-{self.tag}@example.com"
        self.password = "Quiet-meadow-at-dawn-81"
        self.team_name = f"Journey {self.tag}"
        self.state: dict[str, Any] = {}

    # --- running ---------------------------------------------------------------------------
    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        """The steps in order, each a name and what runs it."""
        return [
            ("sign up", self.sign_up),
            ("plans", self.load_plans),
            ("promotion code", self.check_promotion_code),
            ("VAT number check (VIES)", self.check_vat_number),
            ("billing details", self.save_billing_details),
            ("checkout session", self.start_checkout),
            ("declined card", self.pay_with_declined_card),
            ("payment", self.pay),
            ("webhooks: subscription active", self.wait_for_active_subscription),
            ("order paid", self.check_order_paid),
            ("invoices", self.check_invoices),
            ("usage meter", self.check_usage_meter),
            ("feature gate: /sso/", self.check_feature_gate),
            ("portal: cancel", self.cancel_in_portal),
            ("webhooks: cancellation", self.wait_for_cancellation),
            ("account page", self.check_account_page),
            ("webhook deliveries", self.check_deliveries),
            ("admin: webhook event log", self.check_admin_event_log),
        ]

    def run(self) -> bool:
        """Run every step in order, stopping at the first failure; report each one."""
        steps = self.steps()
        self.out.write(f"Journey against {self.site_url} (provider {self.provider_url})\n")
        started = time.monotonic()
        for name, step in steps:
            began = time.monotonic()
            try:
                detail = step()
                ok = True
            except JourneyFailed as exc:
                detail, ok = str(exc), False
            except requests.RequestException as exc:
                detail, ok = f"HTTP error: {exc}", False
            result = StepResult(name, ok, detail, time.monotonic() - began)
            self.results.append(result)
            mark = "PASS" if ok else "FAIL"
            self.out.write(f"  {mark}  {name:<32} {detail}  ({result.seconds:.2f} s)\n")
            self.out.flush()
            if not ok:
                self.out.write(f"Journey failed at '{name}'.\n")
                return False
        self.out.write(
            f"Journey complete: {len(steps)} steps in {time.monotonic() - started:.1f} s.\n"
        )
        return True

    # --- HTTP helpers ----------------------------------------------------------------------
    def url(self, path: str) -> str:
        return urljoin(self.site_url + "/", path.lstrip("/"))

    def csrf_token(self) -> str:
        token = self.browser.cookies.get("csrftoken")
        if not token:
            self.browser.get(self.url("/pricing/"), timeout=10)
            token = self.browser.cookies.get("csrftoken")
        if not token:
            raise JourneyFailed("the site set no csrftoken cookie")
        return str(token)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        """Call the library's API as the page's JavaScript does (session cookie + CSRF header)."""
        headers = {"Accept": "application/json"}
        if method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf_token()
        return self.browser.request(method, self.url(path), json=body, headers=headers, timeout=30)

    def expect(self, response: requests.Response, *statuses: int) -> Any:
        if response.status_code not in statuses:
            raise JourneyFailed(
                f"{response.request.method} {urlsplit(response.url).path} answered "
                f"{response.status_code}: {response.text[:300]}"
            )
        if "json" in response.headers.get("Content-Type", ""):
            return response.json()
        return response.text

    def wait_until(self, what: str, probe: Callable[[], Any]) -> Any:
        """Poll ``probe`` until it returns something truthy, for at most ``wait_seconds``."""
        deadline = time.monotonic() + self.wait_seconds
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.25)
        raise JourneyFailed(f"{what} did not happen within {self.wait_seconds:.0f} s")

    def provider_page(self, url: str) -> str:
        if not url.startswith(self.provider_url):
            raise JourneyFailed(f"{url} is not a page of the provider at {self.provider_url}")
        return url

    # --- the steps -------------------------------------------------------------------------
    def sign_up(self) -> str:
        page = self.browser.get(self.url("/signup/"), timeout=10)
        self.expect(page, 200)
        response = self.browser.post(
            self.url("/signup/"),
            data={
                "csrfmiddlewaretoken": self.csrf_token(),
                "email": self.email,
                "team_name": self.team_name,
                "password1": self.password,
                "password2": self.password,
            },
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302:
            errors = re.findall(r"<li>(.*?)</li>", response.text)
            raise JourneyFailed(f"sign-up answered {response.status_code}: {errors[:3]}")
        account = self.expect(self.browser.get(self.url("/account/"), timeout=10), 200)
        if self.team_name not in account:
            raise JourneyFailed(f"the account page does not show the team {self.team_name!r}")
        return f"{self.email}, team {self.team_name!r}"

    def load_plans(self) -> str:
        catalog = self.expect(self.api("GET", "/api/payment/plans/"), 200)
        # The plans are the products with recurring prices (the one-off item has one price).
        plans = [p for p in catalog if any(price["recurring"] for price in p["prices"])]
        names = [plan["name"] for plan in plans]
        if len(plans) < 3:
            raise JourneyFailed(f"expected the three seeded plans, got {names}")
        for plan in plans:
            intervals = {price["interval"] for price in plan["prices"]}
            if not {"month", "year"} <= intervals:
                raise JourneyFailed(f"plan {plan['name']} lacks a monthly or yearly price")
        team = next((plan for plan in plans if plan["name"] == "Team"), plans[0])
        price = next(price for price in team["prices"] if price["interval"] == "month")
        self.state["price"] = price
        self.state["plan"] = team["name"]
        return (
            f"{', '.join(names)}; picked {team['name']} monthly "
            f"({price['amount'] / 100:.2f} {price['currency'].upper()}, pricing {price['id']})"
        )

    def check_promotion_code(self) -> str:
        """The pricing page's promotion code field where the provider has discounts, and a
        code that does not exist refused with the API's reason; no field where it has none."""
        from demo_site.money import offered

        page = self.expect(self.browser.get(self.url("/pricing/"), timeout=10), 200)
        if not offered()["discounts"]:
            if 'id="promotion-code"' in page:
                raise JourneyFailed("the provider has no discounts, yet the page asks for a code")
            return "the provider has no discounts: the pricing page asks for no code"
        if 'id="promotion-code"' not in page:
            raise JourneyFailed("the pricing page has no promotion code field")
        body = {"pricing": self.state["price"]["id"], "promotion_code": "NO-SUCH-CODE"}
        refused = self.expect(self.api("POST", "/api/payment/checkout/", body), 400)
        if refused.get("code") != "promotion_code_unknown":
            raise JourneyFailed(f"an unknown code was refused with {refused}")
        return f"an unknown code is refused: {refused['detail']}"

    def check_usage_meter(self) -> str:
        """One API call from the account page, then the account page shows it as usage so far
        (where the provider has meters; else the page shows no usage)."""
        from demo_site.money import USAGE_METER_NAME, offered

        if not offered()["meters"]:
            account = self.expect(self.browser.get(self.url("/account/"), timeout=10), 200)
            if "Usage this period" in account:
                raise JourneyFailed("the provider has no meters, yet the account shows usage")
            return "the provider has no meters: the account page shows no usage"
        answer = self.browser.post(
            self.url("/usage/api-call/"),
            data={"csrfmiddlewaretoken": self.csrf_token()},
            headers={"Referer": self.url("/account/")},
            timeout=30,
        )
        account = self.expect(answer, 200)
        if "One API call recorded." not in account:
            raise JourneyFailed("the account page does not confirm the API call")
        usage = self.expect(self.api("GET", "/api/payment/usage/"), 200)
        meter = next((m for m in usage if m["display_name"] == USAGE_METER_NAME), None)
        if meter is None or meter["value"] != 1 or meter["pending"] != 0:
            raise JourneyFailed(f"usage so far is {usage}, not 1 API call sent")
        return f"1 API call recorded and sent; usage so far: {meter['value']}"

    def check_feature_gate(self) -> str:
        """/sso/ needs the Business plan's single sign-on: the Team plan gets the 403 page, and
        the navigation has no link to it."""
        forbidden = self.browser.get(self.url("/sso/"), timeout=10)
        if forbidden.status_code != 403:
            raise JourneyFailed(f"/sso/ answered {forbidden.status_code} on the Team plan")
        if "Your plan does not include Single sign-on." not in forbidden.text:
            raise JourneyFailed("the 403 page does not say what the plan lacks")
        if 'href="/sso/"' in forbidden.text:
            raise JourneyFailed("the navigation links /sso/ without the feature")
        return "403 on the Team plan: Your plan does not include Single sign-on."

    def check_vat_number(self) -> str:
        answer = self.expect(
            self.api(
                "POST",
                "/api/payment/billing/validate-vat/",
                {"vat_number": self.vat_number, "country": self.vat_country},
            ),
            200,
        )
        if answer.get("status") != "valid":
            raise JourneyFailed(f"VIES did not confirm {self.vat_number}: {answer}")
        who = answer.get("name") or "no name given"
        return f"{answer['vat_number']} is valid ({who})"

    def save_billing_details(self) -> str:
        response = self.api(
            "PUT",
            "/api/payment/billing/",
            {
                "name": f"{self.team_name} SAS",
                "email": self.email,
                "address_line1": "12 rue de la Paix",
                "city": "Paris",
                "postal_code": "75002",
                "country": self.vat_country,
                "tax_id": self.vat_number,
            },
        )
        info = self.expect(response, 200, 201)
        if info.get("vat_validation_status") != "valid":
            raise JourneyFailed(f"VAT validation status is {info.get('vat_validation_status')!r}")
        if info.get("tax_exemption") != "reverse":
            raise JourneyFailed(
                f"expected reverse charge, got tax exemption {info.get('tax_exemption')!r} "
                f"({info.get('tax_decision_reason')})"
            )
        reason = info.get("tax_decision_reason") or "no reason given"
        consultation = info.get("vat_consultation_number")
        proof = f", VIES consultation {consultation}" if consultation else ""
        return f"VAT {info['tax_id']} valid{proof} -> reverse charge ({reason})"

    def start_checkout(self) -> str:
        price = self.state["price"]
        session = self.expect(
            self.api("POST", "/api/payment/checkout/", {"pricing": price["id"], "quantity": 1}),
            200,
            201,
        )
        self.state["checkout_url"] = self.provider_page(session["url"])
        return f"session {session['id']} -> {session['url']}"

    def pay_with_declined_card(self) -> str:
        url = self.state["checkout_url"]
        page = self.expect(self.provider_browser.get(url, timeout=10), 200)
        if "Pay" not in page:
            raise JourneyFailed("the checkout page offers no Pay button")
        declined = self.provider_browser.post(f"{url}/decline", allow_redirects=False, timeout=10)
        if declined.status_code != 402 or "declined" not in declined.text:
            raise JourneyFailed(
                f"a declined card answered {declined.status_code}, not a decline message"
            )
        if "Status: open" not in declined.text:
            raise JourneyFailed("after a declined card the checkout session is no longer open")
        message = re.search(r"<p id='error'[^>]*>(.*?)</p>", declined.text)
        said = (message.group(1) if message else "declined").rstrip(".")
        return f"the checkout page says: {said}; the session stays open"

    def pay(self) -> str:
        url = self.state["checkout_url"]
        paid = self.provider_browser.post(f"{url}/pay", allow_redirects=False, timeout=10)
        if paid.status_code not in (302, 303) or "Location" not in paid.headers:
            raise JourneyFailed(f"paying answered {paid.status_code}: {paid.text[:200]}")
        landing = paid.headers["Location"]
        if not landing.startswith(self.site_url):
            raise JourneyFailed(f"the provider sent the customer to {landing}, not to the site")
        page = self.expect(self.browser.get(landing, timeout=10), 200)
        if "Thank you" not in page:
            raise JourneyFailed(f"{landing} is not the success page")
        return f"paid; back on {urlsplit(landing).path}"

    def live_subscription(self) -> dict[str, Any] | None:
        subscriptions = self.expect(self.api("GET", "/api/payment/subscriptions/"), 200)
        items = (
            subscriptions.get("results", []) if isinstance(subscriptions, dict) else subscriptions
        )
        return next((s for s in items if s["status"] == "active"), None)

    def wait_for_active_subscription(self) -> str:
        began = time.monotonic()
        subscription = self.wait_until("an active subscription", self.live_subscription)
        self.state["subscription"] = subscription
        if subscription["product"] != self.state["plan"]:
            raise JourneyFailed(f"the subscription is to {subscription['product']}")
        return (
            f"subscription {subscription['id']} to {subscription['product']} is active "
            f"after {time.monotonic() - began:.1f} s, "
            f"period ends {subscription['current_period_end']}"
        )

    def check_order_paid(self) -> str:
        # The order is settled by checkout.session.completed, which may arrive after the
        # subscription's own events.
        def paid_order() -> dict[str, Any] | None:
            orders = listed(self.expect(self.api("GET", "/api/payment/orders/"), 200))
            return next((order for order in orders if order["status"] == "paid"), None)

        order = self.wait_until("a paid order", paid_order)
        return f"order {order['id']} paid"

    def check_invoices(self) -> str:
        # The site records invoices from the provider's webhooks: wait for the paid one.
        def paid_invoice() -> dict[str, Any] | None:
            invoices = listed(self.expect(self.api("GET", "/api/payment/invoices/"), 200))
            return next((i for i in invoices if i["status"] == "paid"), None)

        self.wait_until("a paid invoice", paid_invoice)
        account = self.expect(self.browser.get(self.url("/account/"), timeout=10), 200)
        links = re.findall(r'<a href="([^"]+)">View invoice ([^<]+)</a>', account)
        if not links:
            raise JourneyFailed("the account page lists no invoice")
        url, number = links[0]
        invoice = self.expect(self.provider_browser.get(self.provider_page(url), timeout=10), 200)
        if "Status: paid" not in invoice:
            raise JourneyFailed(f"invoice {number} is not paid")
        return f"{len(links)} invoice(s); {number} is paid at {url}"

    def cancel_in_portal(self) -> str:
        portal = self.expect(self.api("POST", "/api/payment/billing/portal/", {}), 200, 201)
        url = self.provider_page(portal["url"])
        page = self.expect(self.provider_browser.get(url, timeout=10), 200)
        found = re.search(r"name='subscription' value='([^']+)'", page)
        if not found:
            raise JourneyFailed("the portal shows no subscription to cancel")
        canceled = self.provider_browser.post(
            f"{url}/cancel",
            data={"subscription": found.group(1)},
            allow_redirects=True,
            timeout=10,
        )
        page = self.expect(canceled, 200)
        if "cancels at period end" not in page:
            raise JourneyFailed("the portal does not show the cancellation")
        back = re.search(r"<a id='return' href='([^']+)'", page)
        if not back or not back.group(1).startswith(self.site_url):
            raise JourneyFailed("the portal has no link back to the site")
        return f"{found.group(1)} set to cancel at period end; portal returns to {back.group(1)}"

    def wait_for_cancellation(self) -> str:
        began = time.monotonic()

        def canceled() -> dict[str, Any] | None:
            subscription = self.live_subscription()
            return subscription if subscription and subscription["cancel_at_period_end"] else None

        subscription = self.wait_until("the cancellation's webhook", canceled)
        return (
            f"subscription {subscription['id']} cancels at period end "
            f"(arrived after {time.monotonic() - began:.1f} s)"
        )

    def check_account_page(self) -> str:
        account = self.expect(self.browser.get(self.url("/account/"), timeout=10), 200)
        if "Cancels at the end of the period" not in account:
            raise JourneyFailed("the account page does not show the pending cancellation")
        if "Reverse charge" not in account:
            raise JourneyFailed("the account page does not show the reverse charge")
        return "shows the plan, reverse charge and the pending cancellation"

    def check_deliveries(self) -> str:
        response = self.provider_browser.get(
            f"{self.provider_url}/_emulator/deliveries", timeout=10
        )
        attempts = self.expect(response, 200)["deliveries"]
        if not attempts:
            raise JourneyFailed("the provider delivered no webhook")
        delivered: dict[str, bool] = {}
        types: dict[str, str] = {}
        for attempt in attempts:
            event = str(attempt.get("event"))
            types[event] = str(attempt.get("type", "?"))
            ok = 200 <= int(attempt.get("status") or 0) < 300
            delivered[event] = delivered.get(event, False) or ok
        undelivered = [f"{types[e]} ({e})" for e, ok in delivered.items() if not ok]
        if undelivered:
            raise JourneyFailed(f"never accepted by the site: {', '.join(undelivered)}")
        retried = len(attempts) - len(delivered)
        return (
            f"{len(delivered)} events accepted ({retried} retried attempts): "
            f"{', '.join(sorted(set(types.values())))}"
        )

    def check_admin_event_log(self) -> str:
        admin = requests.Session()
        login_url = self.url("/admin/login/")
        admin.get(login_url, timeout=10)
        response = admin.post(
            login_url,
            data={
                "csrfmiddlewaretoken": admin.cookies.get("csrftoken", ""),
                "username": ADMIN_LOGIN[0],
                "password": ADMIN_LOGIN[1],
                "next": "/admin/",
            },
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302:
            raise JourneyFailed(f"the admin login as {ADMIN_LOGIN[0]} failed")
        log = self.expect(
            admin.get(self.url("/admin/django_payments_sync/webhookevent/"), timeout=10), 200
        )
        missing = [event for event in self.expected_events if event not in log]
        if missing:
            raise JourneyFailed(f"the event log lacks {', '.join(missing)}")
        count = re.search(r"(\d+) webhook events?", log)
        listed_count = count.group(0) if count else "events"
        # The paying customer is the team, not the user who signed up.
        customers = self.expect(
            admin.get(
                self.url("/admin/django_payments_sync/customer/"),
                params={"q": self.email},
                timeout=10,
            ),
            200,
        )
        row = re.search(
            r"<tr[^>]*>(?:(?!</tr>).)*" + re.escape(self.email) + r".*?</tr>", customers, re.S
        )
        if not row or f">{self.team_name}<" not in row.group(0):
            raise JourneyFailed(f"the admin does not list a customer owned by {self.team_name!r}")
        return (
            f"{listed_count} listed, including {', '.join(self.expected_events)}; "
            f"the customer's owner is the team {self.team_name!r}"
        )
