"""Hosted pages: Checkout (pay, decline, cancel), the billing portal, invoices and their PDFs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import emulator_pages as ui
from . import views
from .errors import StripeError
from .invoicing import TIMES
from .resources.portal import (
    portal_cancel,
    portal_payment_method,
    portal_renew,
    portal_switch,
)
from .resources.sessions import CARD_DECLINED, CARD_OK, pay_session

if TYPE_CHECKING:
    from .store import Store

PageResult = ui.PageResult

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
    return _page(404, "Not found", "No such page.")


def _page(status: int, title: str, body: str) -> PageResult:
    return views.message(status, title, body)


_redirect = ui.redirect


# checkout


def _checkout(store: Store, method: str, session_id: str, action: str | None) -> PageResult:
    session = store.find(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _page(404, "Checkout session not found", "Unknown session.")
    if method == "GET" and action is None:
        return _checkout_page(store, session, 200, None)
    if method != "POST" or action is None:
        return _page(405, "Method not allowed", "Use the page's buttons.")
    if action == "cancel":
        if session["cancel_url"]:
            return _redirect(session["cancel_url"])
        return _page(200, "Checkout canceled", "You canceled the payment.")
    try:
        target = pay_session(store, session, CARD_OK if action == "pay" else CARD_DECLINED)
    except StripeError as exc:
        return _checkout_page(store, session, exc.status, exc.message)
    if target:
        return _redirect(target)
    return _page(200, "Payment complete", f"Session {session_id} is complete.")


def _checkout_page(
    store: Store, session: dict[str, Any], status: int, error: str | None
) -> PageResult:
    from .resources.sessions import _line_items

    lines = _line_items(store, session, {})["data"]
    return views.checkout(store, session, lines, status, error)


# billing portal


def _portal(
    store: Store, method: str, session_id: str, action: str | None, form: dict[str, str]
) -> PageResult:
    portal = store.find(session_id)
    if portal is None or portal.get("object") != "billing_portal.session":
        return _page(404, "Portal session not found", "Unknown session.")
    customer_id = portal["customer"]
    if method == "GET" and action is None:
        return views.portal(store, portal)
    if method != "POST" or action is None:
        return _page(405, "Method not allowed", "Use the page's buttons.")
    if action == "payment_method":
        card = CARD_DECLINED if form.get("card") == "declined" else CARD_OK
        portal_payment_method(store, customer_id, card)
        return _redirect(f"/p/session/{session_id}")
    sub = store.find(form.get("subscription", ""))
    if sub is None or sub.get("object") != "subscription" or sub["customer"] != customer_id:
        return _page(400, "Unknown subscription", "That subscription is not yours.")
    try:
        if action == "cancel":
            portal_cancel(store, sub)
        elif action == "renew":
            portal_renew(store, sub)
        else:
            portal_switch(store, sub, form.get("price", ""))
    except StripeError as exc:
        return _page(exc.status, "Portal error", exc.message)
    return _redirect(f"/p/session/{session_id}")


# invoices


def _invoice(store: Store, invoice_id: str, pdf: bool) -> PageResult:
    invoice = store.find(invoice_id)
    if invoice is None or invoice.get("object") != "invoice" or invoice["status"] == "draft":
        return _page(404, "Invoice not found", "Unknown invoice.")
    if pdf:
        return 200, {"Content-Type": "application/pdf"}, invoice_pdf(invoice)
    return views.invoice(store, invoice)


def _invoice_action(store: Store, invoice_id: str, action: str) -> PageResult:
    """The hosted invoice page's buttons: 3-D Secure completed or failed, another card."""
    from .dunning import complete_authentication, pay_with_new_card
    from .events import set_request

    invoice = store.find(invoice_id)
    if invoice is None or invoice.get("object") != "invoice":
        return _page(404, "Invoice not found", "Unknown invoice.")
    if invoice["status"] != "open":
        return _page(409, "Invoice", f"This invoice is {invoice['status']}.")
    waiting = store.meta_for(invoice_id).get("awaiting_authentication")
    if action in ("authenticate", "fail") and not waiting:
        return _page(409, "Invoice", "No authentication is pending.")
    set_request(None, None)
    if action == "pay":
        paid = pay_with_new_card(store, invoice)
    else:
        paid = complete_authentication(store, invoice, succeed=action == "authenticate")
    if paid:
        return views.page(
            200,
            "Invoice paid",
            ui.alert("Thank you: the invoice is paid.", kind="info", id="result"),
        )
    return views.page(
        402, "Payment failed", ui.alert("The payment did not go through.", id="result")
    )


def invoice_pdf(invoice: dict[str, Any]) -> bytes:
    """A small but valid one-page PDF listing the invoice's number, lines and total."""
    lines = [
        f"Invoice {invoice['number']}",
        f"Date: {ui.date(invoice['status_transitions']['finalized_at'] or invoice['created'])}",
        f"Billed to: {invoice['customer_name'] or invoice['customer_email'] or ''}",
        f"Status: {invoice['status']}",
        *(
            f"{ln['description']}: {ui.money(ln['amount'], ln['currency'])}"
            for ln in invoice["lines"]["data"]
        ),
        f"Total: {ui.money(invoice['total'], invoice['currency'])}",
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
    text = text.replace(TIMES, "x").replace("\N{MINUS SIGN}", "-").replace("\N{EN DASH}", "-")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
