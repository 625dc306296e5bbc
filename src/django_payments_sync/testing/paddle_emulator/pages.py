"""Hosted pages: the checkout (pay, declined card, cancel) and the customer portal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .. import emulator_pages as ui
from .billing import pay_checkout, set_card
from .errors import PaddleError
from .money import fill_details
from .notifications import emit

if TYPE_CHECKING:
    from .store import Store

_CHECKOUT = re.compile(r"^/checkout/(txn_[a-z\d]+)(?:/(pay|decline|cancel))?$")
_PORTAL = re.compile(r"^/portal/(cpls_[a-z\d]+)(?:/(cancel|card))?$")
_MANAGE = re.compile(r"^/portal/subscriptions/(sub_[a-z\d]+)/(cancel|update-payment-method)$")


def is_page(path: str) -> bool:
    return any(p.match(path) for p in (_CHECKOUT, _PORTAL, _MANAGE))


def handle(
    store: Store, method: str, path: str, query: dict[str, str], form: dict[str, str]
) -> ui.PageResult:
    """Answer a hosted page request; the caller holds the store lock."""
    found = _CHECKOUT.match(path)
    if found:
        return _checkout(store, method, found.group(1), found.group(2), {**query, **form})
    found = _PORTAL.match(path)
    if found:
        return _portal(store, method, found.group(1), found.group(2), form)
    found = _MANAGE.match(path)
    if found:
        return _manage(store, method, found.group(1), found.group(2), form)
    return _page("Not found", ui.alert("No such page."), status=404)


def _page(title: str, body: object, *, status: int = 200, summary: object = None) -> ui.PageResult:
    return ui.page(
        title,
        ui.join(body),
        status=status,
        brand=ui.PADDLE,
        summary=ui.join(summary) if summary is not None else None,
    )


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


# checkout


def _checkout(
    store: Store, method: str, txn_id: str, action: str | None, fields: dict[str, str]
) -> ui.PageResult:
    txn = store.find(txn_id)
    if txn is None:
        return _page("Checkout not found", ui.alert("Unknown transaction."), status=404)
    back = fields.get("return_url", "")
    if method == "GET" and action is None:
        return _checkout_page(store, txn, back, None)
    if method != "POST" or action is None:
        return _page("Method not allowed", "", status=405)
    if action == "cancel":
        if back:
            return ui.redirect(with_query(back, _ptxn=txn_id, checkout="canceled"))
        return _page("Checkout canceled", ui.alert("You canceled the payment.", kind="info"))
    try:
        _buyer(store, txn, fields)
        pay_checkout(store, txn, declined=action == "decline")
    except PaddleError as exc:
        return _checkout_page(store, txn, back, _message(exc), status=exc.status)
    if back:
        return ui.redirect(with_query(back, _ptxn=txn_id))
    return _page("Payment complete", ui.alert(f"Transaction {txn_id} is paid.", kind="info"))


def _message(exc: PaddleError) -> str:
    """What the buyer reads: the detail, and each field at fault (`email: must be ...`)."""
    fields = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
    return f"{exc.detail} {fields}".strip() if fields else exc.detail


def _buyer(store: Store, txn: dict[str, Any], fields: dict[str, str]) -> None:
    """A checkout without a customer asks for an email and a country, as Paddle's does."""
    if txn["customer_id"] and txn["address_id"]:
        return
    from .resources import Call
    from .resources.customers import create_address, create_customer

    email = fields.get("email", "").strip()
    country = fields.get("country_code", "").strip().upper()
    if not txn["customer_id"]:
        existing = [c for c in store.all("customer") if c["email"].lower() == email.lower()]
        if existing:
            customer = existing[0]
        else:
            call = Call(store, "POST", "/customers", (), {}, {"email": email})
            customer = create_customer(call)
        txn["customer_id"] = customer["id"]
    call = Call(store, "POST", "", (txn["customer_id"],), {}, {"country_code": country})
    txn["address_id"] = create_address(call)["id"]
    fill_details(store, txn)  # the tax follows the buyer's country
    txn["status"] = "ready"
    txn["updated_at"] = store.now()
    emit(store, "transaction.updated", txn)
    emit(store, "transaction.ready", txn)


def _lines(txn: dict[str, Any]) -> list[ui.Line]:
    lines = []
    for line in txn["details"].get("line_items", []):
        product = line.get("product") or {}
        item = next(i for i in txn["items"] if i["price"]["id"] == line["price_id"])
        cycle = item["price"]["billing_cycle"]
        lines.append(
            ui.Line(
                product.get("name") or line["price_id"],
                int(line["totals"]["subtotal"]),
                txn["currency_code"],
                quantity=line["quantity"],
                unit_amount=int(line["unit_totals"]["subtotal"]),
                detail=ui.billed(cycle["interval"], cycle["frequency"]) if cycle else "One-time",
            )
        )
    return lines


def _checkout_page(
    store: Store, txn: dict[str, Any], back: str, error: str | None, *, status: int = 200
) -> ui.PageResult:
    totals = txn["details"]["totals"]
    currency = txn["currency_code"]
    summary = ui.line_items(
        _lines(txn),
        currency=currency,
        subtotal=int(totals["subtotal"]),
        tax=int(totals["tax"]),
        total=int(totals["grand_total"]),
    )
    base = f"/checkout/{txn['id']}"
    keep = {"return_url": back} if back else {}
    parts: list[object] = [ui.details([("Status", ui.pill(txn["status"]))], id="status")]
    if error:
        parts.append(ui.alert(error))
    if txn["status"] in ("draft", "ready"):
        buyer = ""
        if not (txn["customer_id"] and txn["address_id"]):
            buyer = ui.format_html(
                "<label for='email'>Email</label><input id='email' name='email' type='email'>"
                "<label for='country_code'>Country</label>"
                "<input id='country_code' name='country_code' value='{}' maxlength='2'>",
                "US",
            )
        parts.append(ui.form(f"{base}/pay", buyer, "Pay", keep, kind="primary"))
        parts.append(ui.form(f"{base}/decline", buyer, "Pay with a declined card", keep))
        parts.append(ui.button(f"{base}/cancel", "Cancel", keep, kind="link"))
    return _page("Checkout", ui.join(*parts), status=status, summary=summary)


# customer portal


def _portal(
    store: Store, method: str, session_id: str, action: str | None, form: dict[str, str]
) -> ui.PageResult:
    session = store.find(session_id)
    if session is None or not session_id.startswith("cpls_"):
        return _page("Portal session not found", ui.alert("Unknown session."), status=404)
    customer_id = session["customer_id"]
    if method == "GET" and action is None:
        return _portal_page(store, session)
    if method != "POST" or action is None:
        return _page("Method not allowed", "", status=405)
    if action == "card":
        set_card(store, customer_id, declined=form.get("card") == "declined")
        return ui.redirect(f"/portal/{session_id}")
    sub = store.find(form.get("subscription", ""))
    if sub is None or not sub["id"].startswith("sub_") or sub["customer_id"] != customer_id:
        return _page(
            "Unknown subscription", ui.alert("That subscription is not yours."), status=400
        )
    try:
        _cancel(store, sub)
    except PaddleError as exc:
        return _page("Portal error", ui.alert(exc.detail), status=exc.status)
    return ui.redirect(f"/portal/{session_id}")


def _cancel(store: Store, sub: dict[str, Any]) -> None:
    from .resources.subscriptions import cancel

    if sub["status"] == "canceled":
        raise PaddleError(400, "subscription_is_canceled_action_invalid", "Already canceled.")
    cancel(store, sub, "next_billing_period")


def _portal_page(store: Store, session: dict[str, Any]) -> ui.PageResult:
    customer = store.get("customer", session["customer_id"])
    base = f"/portal/{session['id']}"
    blocks = []
    subs = store.where("subscription", lambda s: s["customer_id"] == customer["id"])
    for sub in subs:
        item = sub["items"][0]
        change = sub["scheduled_change"]
        state = f"{change['action']}s on {ui.date(change['effective_at'])}" if change else ""
        rows = [
            ("Status", ui.pill(sub["status"])),
            ("Plan", item["product"]["name"]),
            ("Next payment", ui.date(sub["next_billed_at"]) if sub["next_billed_at"] else "-"),
        ]
        if state:
            rows.append(("Scheduled", state))
        button = (
            ui.button(f"{base}/cancel", "Cancel subscription", {"subscription": sub["id"]})
            if sub["status"] != "canceled" and not change
            else ""
        )
        blocks.append(ui.card(ui.join(ui.details(rows), button), title=sub["id"], id=sub["id"]))
    card = store.meta_for(customer["id"]).get("card") or {}
    last4 = card.get("last4", "none")
    blocks.append(
        ui.card(
            ui.join(
                ui.details([("Card", f"Visa ending {last4}" if card else "none")]),
                ui.button(f"{base}/card", "Use a working card", {"card": "visa"}),
                ui.button(f"{base}/card", "Use a declining card", {"card": "declined"}),
            ),
            title="Payment method",
            id="payment-method",
        )
    )
    empty = ui.alert("No subscriptions.", kind="info") if not subs else ""
    return _page(f"Your subscriptions, {customer['email']}", ui.join(empty, *blocks))


def _manage(
    store: Store, method: str, sub_id: str, action: str, form: dict[str, str]
) -> ui.PageResult:
    """The subscription's `management_urls`: cancel, or update the payment method."""
    sub = store.find(sub_id)
    if sub is None:
        return _page("Subscription not found", ui.alert("Unknown subscription."), status=404)
    here = f"/portal/subscriptions/{sub_id}/{action}"
    if method == "POST":
        try:
            if action == "cancel":
                _cancel(store, sub)
            else:
                set_card(store, sub["customer_id"], declined=form.get("card") == "declined")
        except PaddleError as exc:
            return _page("Portal error", ui.alert(exc.detail), status=exc.status)
        return ui.redirect(here)
    rows = [("Status", ui.pill(sub["status"]))]
    if action == "cancel":
        body = ui.join(ui.details(rows), ui.button(here, "Cancel subscription"))
    else:
        body = ui.join(
            ui.details(rows),
            ui.button(here, "Use a working card", {"card": "visa"}),
            ui.button(here, "Use a declining card", {"card": "declined"}),
        )
    return _page("Manage subscription", body)
