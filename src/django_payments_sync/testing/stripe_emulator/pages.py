"""Hosted pages: Checkout (pay, decline, cancel), the billing portal, invoices and their PDFs."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .errors import StripeError
from .invoicing import TIMES
from .resources.sessions import (
    CARD_DECLINED,
    CARD_OK,
    pay_session,
    portal_cancel,
    portal_payment_method,
    portal_renew,
    portal_switch,
)

if TYPE_CHECKING:
    from .store import Store

PageResult = tuple[int, dict[str, str], bytes]

_CHECKOUT = re.compile(r"^/c/pay/([^/]+)(?:/(pay|decline|cancel))?$")
_PORTAL = re.compile(r"^/p/session/([^/]+)(?:/(cancel|renew|switch|payment_method))?$")
_INVOICE = re.compile(r"^/i/([^/]+)(?:/(pdf|authenticate|fail|pay))?$")


def is_page(path: str) -> bool:
    return any(p.match(path) for p in (_CHECKOUT, _PORTAL, _INVOICE))


def handle(store: Store, method: str, path: str, form: dict[str, str]) -> PageResult:
    """Answer a hosted page request; the caller holds the store lock."""
    found = _CHECKOUT.match(path)
    if found:
        return _checkout(store, method, found.group(1), found.group(2))
    found = _PORTAL.match(path)
    if found:
        return _portal(store, method, found.group(1), found.group(2), form)
    found = _INVOICE.match(path)
    if found and method == "GET" and found.group(2) in (None, "pdf"):
        return _invoice(store, found.group(1), found.group(2) == "pdf")
    if found and method == "POST" and found.group(2) not in (None, "pdf"):
        return _invoice_action(store, found.group(1), found.group(2))
    return _page(404, "Not found", "<p>No such page.</p>")


def _page(status: int, title: str, body: str) -> PageResult:
    document = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}"
        "<p><small>Stripe emulator (test mode)</small></p></body></html>"
    )
    return status, {"Content-Type": "text/html; charset=utf-8"}, document.encode()


def _redirect(location: str) -> PageResult:
    return 303, {"Location": location, "Content-Type": "text/plain"}, b""


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def _button(action: str, label: str, fields: dict[str, str] | None = None) -> str:
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in (fields or {}).items()
    )
    return (
        f"<form method='post' action='{html.escape(action)}'>{hidden}"
        f"<button type='submit'>{html.escape(label)}</button></form>"
    )


# checkout


def _checkout(store: Store, method: str, session_id: str, action: str | None) -> PageResult:
    session = store.find(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _page(404, "Checkout session not found", "<p>Unknown session.</p>")
    if method == "GET" and action is None:
        return _checkout_page(store, session, 200, None)
    if method != "POST" or action is None:
        return _page(405, "Method not allowed", "")
    if action == "cancel":
        if session["cancel_url"]:
            return _redirect(session["cancel_url"])
        return _page(200, "Checkout canceled", "<p>You canceled the payment.</p>")
    try:
        target = pay_session(store, session, CARD_OK if action == "pay" else CARD_DECLINED)
    except StripeError as exc:
        return _checkout_page(store, session, exc.status, exc.message)
    if target:
        return _redirect(target)
    return _page(200, "Payment complete", f"<p>Session {html.escape(session_id)} is complete.</p>")


def _checkout_page(
    store: Store, session: dict[str, Any], status: int, error: str | None
) -> PageResult:
    from .resources.sessions import _line_items

    rows = "".join(
        f"<li>{html.escape(str(line['description']))} {TIMES} {line['quantity']}: "
        f"{_money(line['amount_total'], line['currency'])}</li>"
        for line in _line_items(store, session, {})["data"]
    )
    base = f"/c/pay/{session['id']}"
    parts = [
        f"<p id='status'>Status: {html.escape(session['status'])}</p>",
        f"<p id='mode'>Mode: {html.escape(session['mode'])}</p>",
        f"<ul>{rows}</ul>",
        f"<p id='total'>Total: {_money(session['amount_total'], session['currency'])}</p>",
    ]
    if error:
        parts.append(f"<p id='error' role='alert'>{html.escape(error)}</p>")
    if session["status"] == "open":
        parts.append(_button(f"{base}/pay", "Pay"))
        parts.append(_button(f"{base}/decline", "Pay with a declined card"))
        parts.append(_button(f"{base}/cancel", "Cancel"))
    return _page(status, "Checkout", "".join(parts))


# billing portal


def _portal(
    store: Store, method: str, session_id: str, action: str | None, form: dict[str, str]
) -> PageResult:
    portal = store.find(session_id)
    if portal is None or portal.get("object") != "billing_portal.session":
        return _page(404, "Portal session not found", "<p>Unknown session.</p>")
    customer_id = portal["customer"]
    if method == "GET" and action is None:
        return _portal_page(store, portal)
    if method != "POST" or action is None:
        return _page(405, "Method not allowed", "")
    if action == "payment_method":
        card = CARD_DECLINED if form.get("card") == "declined" else CARD_OK
        portal_payment_method(store, customer_id, card)
        return _redirect(f"/p/session/{session_id}")
    sub = store.find(form.get("subscription", ""))
    if sub is None or sub.get("object") != "subscription" or sub["customer"] != customer_id:
        return _page(400, "Unknown subscription", "<p>That subscription is not yours.</p>")
    try:
        if action == "cancel":
            portal_cancel(store, sub)
        elif action == "renew":
            portal_renew(store, sub)
        else:
            portal_switch(store, sub, form.get("price", ""))
    except StripeError as exc:
        return _page(exc.status, "Portal error", f"<p>{html.escape(exc.message)}</p>")
    return _redirect(f"/p/session/{session_id}")


def _portal_page(store: Store, portal: dict[str, Any]) -> PageResult:
    customer_id = portal["customer"]
    subs = store.where(
        "subscription",
        lambda s: (
            s["customer"] == customer_id and s["status"] not in ("canceled", "incomplete_expired")
        ),
    )
    prices = [p for p in store.all("price") if p["active"] and p["type"] == "recurring"]
    base = f"/p/session/{portal['id']}"
    blocks = []
    for sub in subs:
        item = sub["items"]["data"][0]
        price = store.get(
            "price", item["price"] if isinstance(item["price"], str) else item["price"]["id"]
        )
        state = "cancels at period end" if sub["cancel_at_period_end"] else sub["status"]
        options = "".join(
            f"<option value='{p['id']}'>{html.escape(p['nickname'] or p['id'])} "
            f"({_money(p['unit_amount'], p['currency'])})</option>"
            for p in prices
            if p["id"] != price["id"]
        )
        fields = {"subscription": sub["id"]}
        toggle = (
            _button(f"{base}/renew", "Renew subscription", fields)
            if sub["cancel_at_period_end"]
            else _button(f"{base}/cancel", "Cancel subscription", fields)
        )
        switch = (
            f"<form method='post' action='{base}/switch'>"
            f"<input type='hidden' name='subscription' value='{sub['id']}'>"
            f"<select name='price'>{options}</select>"
            "<button type='submit'>Switch price</button></form>"
            if options
            else ""
        )
        blocks.append(
            f"<section class='subscription' id='{sub['id']}'>"
            f"<p>{html.escape(sub['id'])}: {html.escape(price['id'])}, {html.escape(state)}, "
            f"renews {item['current_period_end']}</p>{toggle}{switch}</section>"
        )
    customer = store.get("customer", customer_id)
    current = customer["invoice_settings"]["default_payment_method"] or "none"
    cards = (
        f"<section id='payment-method'><p>Payment method: {html.escape(current)}</p>"
        + _button(f"{base}/payment_method", "Use a working card", {"card": "visa"})
        + _button(f"{base}/payment_method", "Use a declining card", {"card": "declined"})
        + "</section>"
    )
    back = portal["return_url"]
    link = f"<p><a id='return' href='{html.escape(back)}'>Return</a></p>" if back else ""
    body = "".join(blocks) or "<p>No active subscriptions.</p>"
    return _page(200, "Billing portal", body + cards + link)


# invoices


def _invoice(store: Store, invoice_id: str, pdf: bool) -> PageResult:
    invoice = store.find(invoice_id)
    if invoice is None or invoice.get("object") != "invoice" or invoice["status"] == "draft":
        return _page(404, "Invoice not found", "<p>Unknown invoice.</p>")
    if pdf:
        return 200, {"Content-Type": "application/pdf"}, invoice_pdf(invoice)
    rows = "".join(
        f"<li>{html.escape(line['description'])}: {_money(line['amount'], line['currency'])}</li>"
        for line in invoice["lines"]["data"]
    )
    body = (
        f"<p id='number'>Invoice {html.escape(invoice['number'] or '')}</p>"
        f"<p id='status'>Status: {html.escape(invoice['status'])}</p>"
        f"<ul>{rows}</ul>"
        f"<p id='total'>Total: {_money(invoice['total'], invoice['currency'])}</p>"
        f"<p id='due'>Amount due: {_money(invoice['amount_remaining'], invoice['currency'])}</p>"
        f"<p><a href='/i/{invoice['id']}/pdf'>Download PDF</a></p>"
    )
    if invoice["status"] == "open" and invoice["amount_remaining"] > 0:
        base = f"/i/{invoice['id']}"
        if store.meta_for(invoice["id"]).get("awaiting_authentication"):
            body += (
                "<p id='action'>Your bank asks you to confirm this payment.</p>"
                + _button(f"{base}/authenticate", "Complete authentication")
                + _button(f"{base}/fail", "Fail authentication")
            )
        body += _button(f"{base}/pay", "Pay with another card")
    return _page(200, "Invoice", body)


def _invoice_action(store: Store, invoice_id: str, action: str) -> PageResult:
    """The hosted invoice page's buttons: 3-D Secure completed or failed, another card."""
    from .dunning import complete_authentication, pay_with_new_card
    from .events import set_request

    invoice = store.find(invoice_id)
    if invoice is None or invoice.get("object") != "invoice":
        return _page(404, "Invoice not found", "<p>Unknown invoice.</p>")
    if invoice["status"] != "open":
        return _page(409, "Invoice", f"<p>This invoice is {html.escape(invoice['status'])}.</p>")
    waiting = store.meta_for(invoice_id).get("awaiting_authentication")
    if action in ("authenticate", "fail") and not waiting:
        return _page(409, "Invoice", "<p>No authentication is pending.</p>")
    set_request(None, None)
    if action == "pay":
        paid = pay_with_new_card(store, invoice)
    else:
        paid = complete_authentication(store, invoice, succeed=action == "authenticate")
    if paid:
        return _page(200, "Invoice paid", "<p id='result'>Thank you: the invoice is paid.</p>")
    return _page(402, "Payment failed", "<p id='result'>The payment did not go through.</p>")


def invoice_pdf(invoice: dict[str, Any]) -> bytes:
    """A small but valid one-page PDF listing the invoice's number, lines and total."""
    lines = [
        f"Invoice {invoice['number']}",
        f"Status: {invoice['status']}",
        *(
            f"{ln['description']}: {_money(ln['amount'], ln['currency'])}"
            for ln in invoice["lines"]["data"]
        ),
        f"Total: {_money(invoice['total'], invoice['currency'])}",
    ]
    text = (
        "BT /F1 12 Tf 50 780 Td 16 TL "
        + " ".join(f"({_pdf_escape(line)}) Tj T*" for line in lines)
        + " ET"
    )
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace(TIMES, "x")
