"""What the hosted pages show: Checkout, the billing portal and invoices, built with the page kit.

The buttons are POST forms whose actions `pages.handle` answers; their labels, the ids
`status`, `mode`, `total`, `error`, `number`, `due`, `payment-method`, `return` and the class
`subscription` are what tests and the demo's journey read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.safestring import SafeString

from .. import emulator_pages as ui
from .invoicing import TIMES, declines

if TYPE_CHECKING:
    from .store import Store

PageResult = ui.PageResult
DASH = " \N{EN DASH} "


def page(status: int, title: str, body: str, summary: str | None = None) -> PageResult:
    return ui.page(title, body, status=status, brand=ui.STRIPE, summary=summary)


def message(status: int, title: str, text: str) -> PageResult:
    return page(status, title, ui.alert(text, kind="error" if status >= 400 else "info"))


def _product_name(store: Store, product_id: str) -> str:
    product = store.find(product_id) or store.deleted.get(product_id) or {}
    return str(product.get("name") or product_id)


def _price_detail(price: dict[str, Any]) -> str:
    recurring = price.get("recurring") or {}
    billed = ui.billed(recurring.get("interval"), recurring.get("interval_count", 1))
    return f"{price['nickname']} · {billed}" if price.get("nickname") else billed


def _price_option(store: Store, price: dict[str, Any]) -> str:
    recurring = price.get("recurring") or {}
    every = ui.every(recurring.get("interval"), recurring.get("interval_count", 1))
    name = _product_name(store, price["product"])
    nickname = f" ({price['nickname']})" if price.get("nickname") else ""
    return f"{name}{nickname}: {ui.money(price['unit_amount'], price['currency'])} {every}".strip()


# checkout


def checkout(
    store: Store,
    session: dict[str, Any],
    lines: list[dict[str, Any]],
    status: int,
    error: str | None,
) -> PageResult:
    """The checkout page: the order summary beside the contact and the pay buttons."""
    items = [
        ui.Line(
            _product_name(store, line["price"]["product"]),
            line["amount_total"],
            line["currency"],
            quantity=line["quantity"],
            unit_amount=line["price"]["unit_amount"],
            detail=_price_detail(line["price"]),
        )
        for line in lines
    ]
    summary = _checkout_summary(store, session, lines, items)
    customer = store.find(session["customer"] or "") or {}
    email = session["customer_email"] or customer.get("email") or "Asked for after paying"
    body = [
        ui.details(
            [
                ("Email", email),
                ("Card", "Test card: Visa ending in 4242, or one that is declined"),
            ]
        ),
        ui.alert(error) if error else None,
    ]
    if session["status"] == "open":
        base = f"/c/pay/{session['id']}"
        body.append(
            ui.actions(
                ui.button(f"{base}/pay", "Pay"),
                ui.button(f"{base}/decline", "Pay with a declined card", kind="secondary"),
                ui.button(f"{base}/cancel", "Cancel", kind="link"),
            )
        )
    else:
        body.append(ui.alert(f"This checkout session is {session['status']}.", kind="info"))
    body.append(
        ui.format_html(
            "<p class='ps-muted'><span id='mode'>Mode: {}</span> · "
            "<span id='status'>Status: {}</span> · {}</p>",
            session["mode"],
            session["status"],
            session["id"],
        )
    )
    return page(status, "Checkout", ui.join(*body), summary)


def _checkout_summary(
    store: Store, session: dict[str, Any], lines: list[dict[str, Any]], items: list[ui.Line]
) -> SafeString:
    """What is bought: the price in large type, what recurs, a trial, the lines and totals."""
    currency = session["currency"]
    recurring = [line for line in lines if line["price"].get("recurring")]
    intervals = {
        (line["price"]["recurring"]["interval"], line["price"]["recurring"]["interval_count"])
        for line in recurring
    }
    interval, count = intervals.pop() if len(intervals) == 1 else (None, 1)
    then = sum(line["amount_total"] for line in recurring)
    then_text = f"{ui.money(then, currency)} {ui.every(interval, count)}"
    # A one-time line beside the plan: the total is due today, the plan's amount recurs.
    mixed = interval is not None and then != session["amount_total"]
    trial_days = store.meta_for(session["id"])["subscription_data"].get("trial_period_days")
    names = [item.name for item in items]
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    title = f"Subscribe to {names[0]}{more}" if session["mode"] == "subscription" else "Your order"
    return ui.join(
        SafeString("<p class='ps-muted'>Stripe emulator</p>"),
        ui.card(
            ui.join(
                ui.headline(session["amount_total"], currency, None if mixed else interval, count),
                ui.format_html("<p class='ps-muted'>Then {}</p>", then_text) if mixed else None,
                ui.alert(f"{trial_days} days free, then {then_text}.", kind="info")
                if trial_days and interval
                else None,
                ui.line_items(
                    items,
                    currency=currency,
                    subtotal=session["amount_subtotal"],
                    tax=session["total_details"]["amount_tax"],
                    total=session["amount_total"],
                ),
            ),
            title=title,
        ),
    )


# billing portal


def portal(store: Store, portal_session: dict[str, Any]) -> PageResult:
    """The portal: the customer's subscriptions (cancel, renew, switch), card and invoices."""
    customer_id = portal_session["customer"]
    customer = store.get("customer", customer_id)
    subs = store.where(
        "subscription",
        lambda s: (
            s["customer"] == customer_id and s["status"] not in ("canceled", "incomplete_expired")
        ),
    )
    prices = [p for p in store.all("price") if p["active"] and p["type"] == "recurring"]
    base = f"/p/session/{portal_session['id']}"
    blocks = [_subscription(store, base, sub, prices) for sub in subs]
    current = customer["invoice_settings"]["default_payment_method"]
    card_text = (
        f"Visa ending in {'0002' if declines(current) else '4242'} ({current})"
        if current
        else "None yet"
    )
    payment = ui.card(
        ui.join(
            ui.details([("Card", card_text)]),
            ui.actions(
                ui.button(f"{base}/payment_method", "Use a working card", {"card": "visa"}),
                ui.button(
                    f"{base}/payment_method",
                    "Use a declining card",
                    {"card": "declined"},
                    kind="secondary",
                ),
            ),
        ),
        title="Payment method",
        id="payment-method",
    )
    back = portal_session["return_url"]
    link = ui.format_html("<p><a id='return' href='{}'>Return</a></p>", back) if back else None
    who = ui.details(
        [("Customer", customer.get("name") or customer_id), ("Email", customer.get("email") or "")]
    )
    subscriptions = (
        ui.join(*blocks) if blocks else ui.alert("No active subscriptions.", kind="info")
    )
    body = ui.join(who, subscriptions, payment, _invoice_history(store, customer_id), link)
    return page(200, "Billing portal", body)


def _subscription(
    store: Store, base: str, sub: dict[str, Any], prices: list[dict[str, Any]]
) -> SafeString:
    item = sub["items"]["data"][0]
    price = store.get(
        "price", item["price"] if isinstance(item["price"], str) else item["price"]["id"]
    )
    recurring = price["recurring"] or {}
    ends = item["current_period_end"]
    if sub["cancel_at_period_end"]:
        state, when = ui.pill("canceled", "cancels at period end"), f"Ends on {ui.date(ends)}"
    else:
        state, when = ui.pill(sub["status"]), f"Renews on {ui.date(ends)}"
    fields = {"subscription": sub["id"]}
    toggle = (
        ui.button(f"{base}/renew", "Renew subscription", fields)
        if sub["cancel_at_period_end"]
        else ui.button(f"{base}/cancel", "Cancel subscription", fields, kind="danger")
    )
    options = [(p["id"], _price_option(store, p)) for p in prices if p["id"] != price["id"]]
    switch = (
        ui.form(
            f"{base}/switch",
            ui.select("price", "Switch to", options, id=f"price-{sub['id']}"),
            "Switch price",
            fields,
        )
        if options
        else None
    )
    return ui.card(
        ui.join(
            ui.headline(
                price["unit_amount"] * item.get("quantity", 1),
                price["currency"],
                recurring.get("interval"),
                recurring.get("interval_count", 1),
            ),
            ui.format_html("<p>{} · {}</p>", state, when),
            ui.format_html("<p class='ps-muted'>{} · {}</p>", _price_detail(price), sub["id"]),
            ui.actions(toggle, switch),
        ),
        title=_product_name(store, price["product"]),
        id=sub["id"],
        cls="subscription",
    )


def _invoice_history(store: Store, customer_id: str) -> SafeString | None:
    invoices = store.where(
        "invoice", lambda i: i["customer"] == customer_id and i["status"] != "draft"
    )
    if not invoices:
        return None
    rows = ui.format_html_join(
        "",
        "<tr><td><a href='{}'>Invoice {}</a><span class='ps-detail'>{}</span></td>"
        "<td class='ps-num'>{}<span class='ps-detail'>{}</span></td></tr>",
        (
            (
                i["hosted_invoice_url"] or "",
                i["number"] or i["id"],
                ui.date(i["created"]),
                ui.money(i["total"], i["currency"]),
                ui.pill(i["status"]),
            )
            for i in sorted(invoices, key=lambda i: i["created"], reverse=True)
        ),
    )
    return ui.card(
        ui.format_html("<table class='ps-lines'><tbody>{}</tbody></table>", rows),
        title="Invoice history",
        id="invoices",
    )


# invoices


def line_name(store: Store, line: dict[str, Any]) -> str:
    """A line's product name where its description is the default `<quantity> TIMES <product>`."""
    default = f"{line['quantity']} {TIMES} "
    description = str(line["description"] or "")
    if description.startswith(default):
        return description[len(default) :]
    return description


def invoice(store: Store, inv: dict[str, Any]) -> PageResult:
    """The hosted invoice page: who bills whom, the lines with tax and total, what is due."""
    currency = inv["currency"]
    items = [
        ui.Line(
            line_name(store, line),
            line["amount"],
            line["currency"],
            quantity=line["quantity"] or 1,
            detail=f"{ui.date(line['period']['start'])}{DASH}{ui.date(line['period']['end'])}",
        )
        for line in inv["lines"]["data"]
    ]
    tax = inv["total"] - (inv["total_excluding_tax"] or inv["total"])
    due = inv["amount_remaining"]
    summary = ui.card(
        ui.join(
            ui.format_html("<p class='ps-muted'>{}</p>", inv["account_name"] or "Stripe emulator"),
            ui.headline(inv["amount_paid"] if inv["status"] == "paid" else due, currency),
            ui.format_html("<p id='number'>Invoice {}</p>", inv["number"] or ""),
            ui.format_html("<p id='status'>Status: {}</p>", inv["status"]),
            ui.format_html(
                "<p><a class='ps-btn secondary' href='/i/{}/pdf'>Download PDF</a></p>", inv["id"]
            ),
        )
    )
    tax_ids = ", ".join(t["value"] for t in inv["customer_tax_ids"] or [])
    billed = [
        ("Billed to", inv["customer_name"] or inv["customer_email"] or inv["customer"]),
        ("Email", inv["customer_email"] or ""),
        ("Tax ID", tax_ids),
        ("Date of issue", ui.date(inv["status_transitions"]["finalized_at"] or inv["created"])),
        ("Paid on", ui.date(inv["status_transitions"]["paid_at"])),
    ]
    body = ui.join(
        _invoice_actions(store, inv),
        ui.details([(label, value) for label, value in billed if value]),
        ui.line_items(
            items, currency=currency, subtotal=inv["subtotal"], tax=tax, total=inv["total"]
        ),
        ui.details(
            [
                ("Amount paid", ui.money(inv["amount_paid"], currency)),
                (
                    "Amount due",
                    ui.format_html("<span id='due'>{}</span>", ui.money(due, currency)),
                ),
            ]
        ),
    )
    return page(200, "Invoice", body, summary)


def _invoice_actions(store: Store, inv: dict[str, Any]) -> SafeString | None:
    """What the customer can do on an open invoice: confirm a payment waiting for 3-D Secure
    (or fail it), or pay with another card (see `dunning`)."""
    if inv["status"] != "open" or inv["amount_remaining"] <= 0:
        return None
    base = f"/i/{inv['id']}"
    buttons = []
    if store.meta_for(inv["id"]).get("awaiting_authentication"):
        buttons += [
            ui.button(f"{base}/authenticate", "Complete authentication"),
            ui.button(f"{base}/fail", "Fail authentication", kind="secondary"),
        ]
    buttons.append(ui.button(f"{base}/pay", "Pay with another card", kind="secondary"))
    notice = (
        ui.alert("Your bank asks you to confirm this payment.", kind="info", id="action")
        if len(buttons) > 1
        else None
    )
    return ui.join(notice, ui.actions(*buttons))
