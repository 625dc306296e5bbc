"""The pieces of a hosted page: amounts, dates, buttons, forms, line items and totals."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from django_payments_sync.currencies import format_amount

# --- text -------------------------------------------------------------------------------------


def money(amount: int, currency: str) -> str:
    """``2900, "eur"`` → ``"29.00 EUR"``, ``290000, "jpy"`` → ``"290,000 JPY"`` (minor units)."""
    return format_amount(amount, currency, grouping=True)


def date(moment: int | float | str | datetime.datetime | None) -> str:
    """A Unix timestamp, an RFC 3339 string or a datetime as ``"2 December 2026"`` (UTC)."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
    elif not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC)
    return f"{moment.day} {moment:%B %Y}"


def every(interval: str | None, count: int = 1) -> str:
    """A billing interval as words: ``"month"`` → ``"per month"``, ``("month", 3)`` → ``"every
    3 months"``; ``None`` (one-time) → ``""``."""
    if not interval:
        return ""
    return f"per {interval}" if count == 1 else f"every {count} {interval}s"


_ADVERBS = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}


def billed(interval: str | None, count: int = 1) -> str:
    """``"month"`` → ``"Billed monthly"``, ``("week", 2)`` → ``"Billed every 2 weeks"``,
    ``None`` → ``"One-time payment"``."""
    if not interval:
        return "One-time payment"
    if count == 1 and interval in _ADVERBS:
        return f"Billed {_ADVERBS[interval]}"
    return f"Billed {every(interval, count)}"


def join(*parts: object) -> SafeString:
    """Pieces of HTML (and escaped text) one after another."""
    return format_html_join("", "{}", ((part,) for part in parts if part is not None))


# --- blocks -----------------------------------------------------------------------------------

_TONES = {
    "ok": {"active", "paid", "complete", "completed", "succeeded", "trialing", "billed"},
    "warn": {"open", "draft", "past_due", "incomplete", "unpaid", "paused", "ready", "pending"},
    "bad": {"canceled", "cancelled", "void", "uncollectible", "expired", "incomplete_expired"},
}


def pill(status: str, label: str | None = None) -> SafeString:
    """A status as a coloured label, green for active/paid, amber for open, red for canceled."""
    tone = next((name for name, values in _TONES.items() if status in values), "")
    return format_html(
        "<span class='ps-pill {}' data-status='{}'>{}</span>",
        tone,
        status,
        label or status.replace("_", " "),
    )


def alert(message: str, *, kind: str = "error", id: str | None = None) -> SafeString:
    """A message the page must not let pass unseen: an error (``role='alert'``, ``id='error'``
    unless told otherwise) or, with ``kind="info"``, a notice (``role='status'``)."""
    role = "alert" if kind == "error" else "status"
    if id is None and kind == "error":
        id = "error"
    attributes = format_html("id='{}' ", id) if id else ""
    return format_html("<p {}role='{}' class='ps-alert {}'>{}</p>", attributes, role, kind, message)


def details(rows: Iterable[tuple[str, object]], *, id: str | None = None) -> SafeString:
    """Label/value pairs (a ``<dl>``); a value may be HTML from the kit."""
    items = format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows)
    if id:
        return format_html("<dl class='ps-details' id='{}'>{}</dl>", id, items)
    return format_html("<dl class='ps-details'>{}</dl>", items)


def card(
    content: object,
    *,
    title: str | None = None,
    id: str | None = None,
    cls: str = "",
) -> SafeString:
    """A bordered block (one subscription, one payment method), ``<section>`` with its title."""
    heading = format_html("<h2>{}</h2>", title) if title else ""
    attributes = format_html(" id='{}'", id) if id else ""
    return format_html(
        "<section class='ps-card {}'{}>{}{}</section>", cls, attributes, heading, content
    )


# --- forms ------------------------------------------------------------------------------------


def hidden(fields: Mapping[str, str] | None) -> SafeString:
    return format_html_join(
        "", "<input type='hidden' name='{}' value='{}'>", (fields or {}).items()
    )


def button(
    action: str,
    label: str,
    fields: Mapping[str, str] | None = None,
    *,
    kind: str = "primary",
) -> SafeString:
    """A POST form with one submit button: ``kind`` is primary, secondary, danger or link."""
    return form(action, "", label, fields, kind=kind)


def actions(*buttons: object) -> SafeString:
    """Buttons stacked full width with even gaps (a page's main choices)."""
    return format_html("<div class='ps-actions'>{}</div>", join(*buttons))


def select(name: str, label: str, options: Iterable[tuple[str, str]], *, id: str) -> SafeString:
    """A labelled ``<select>`` of ``(value, text)`` options (for a form built with :func:`form`)."""
    return format_html(
        "<label for='{}'>{}</label><select id='{}' name='{}'>{}</select>",
        id,
        label,
        id,
        name,
        format_html_join("", "<option value='{}'>{}</option>", options),
    )


def form(
    action: str,
    content: object,
    submit: str,
    fields: Mapping[str, str] | None = None,
    *,
    kind: str = "secondary",
) -> SafeString:
    """A POST form with fields of the kit (:func:`select`) and a submit button."""
    return format_html(
        "<form class='ps-form' method='post' action='{}'>{}{}"
        "<button class='ps-btn {}' type='submit'>{}</button></form>",
        action,
        hidden(fields),
        content,
        kind,
        submit,
    )


# --- what is bought ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of an order or invoice; amounts in the currency's minor units.

    ``name`` is the product's name, ``detail`` what else the customer should read (the price's
    name, "Billed monthly", a period), ``amount`` the line's total.
    """

    name: str
    amount: int
    currency: str
    quantity: int = 1
    unit_amount: int | None = None
    detail: str = ""


def headline(amount: int, currency: str, interval: str | None = None, count: int = 1) -> SafeString:
    """The price in large type, as a checkout's summary opens: ``29.00 EUR per month``."""
    suffix = format_html(" <small>{}</small>", every(interval, count)) if interval else ""
    return format_html("<p class='ps-big'>{}{}</p>", money(amount, currency), suffix)


def line_items(
    lines: Iterable[Line],
    *,
    currency: str,
    total: int,
    subtotal: int | None = None,
    tax: int | None = None,
    tax_label: str = "Tax",
    total_label: str = "Total",
    total_id: str = "total",
    caption: str | None = None,
) -> SafeString:
    """The line-item table with its subtotal, tax and total rows (the total's cell has
    ``id=total_id``; a ``None`` subtotal or tax leaves its row out)."""
    body = format_html_join(
        "",
        "<tr><td><span class='ps-name'>{}</span>{}</td><td class='ps-num'>{}</td>"
        "<td class='ps-num'>{}</td></tr>",
        (
            (line.name, _details(line), line.quantity, money(line.amount, line.currency))
            for line in lines
        ),
    )
    sums = [("Subtotal", subtotal), (tax_label, tax)]
    foot = format_html_join(
        "",
        "<tr><th scope='row' colspan='2'>{}</th><td class='ps-num'>{}</td></tr>",
        ((label, money(amount, currency)) for label, amount in sums if amount is not None),
    )
    total_row = format_html(
        "<tr class='ps-total'><th scope='row' colspan='2'>{}</th>"
        "<td class='ps-num' id='{}'>{}</td></tr>",
        total_label,
        total_id,
        money(total, currency),
    )
    return format_html(
        "<table class='ps-lines'>{}<thead><tr><th scope='col'>Item</th>"
        "<th scope='col' class='ps-num'>Qty</th><th scope='col' class='ps-num'>Amount</th></tr>"
        "</thead><tbody>{}</tbody><tfoot>{}{}</tfoot></table>",
        format_html("<caption>{}</caption>", caption) if caption else "",
        body,
        foot,
        total_row,
    )


def _details(line: Line) -> SafeString:
    each = (
        f"{money(line.unit_amount, line.currency)} each"
        if line.unit_amount is not None and line.quantity != 1
        else ""
    )
    return format_html_join(
        "", "<span class='ps-detail'>{}</span>", ((text,) for text in (line.detail, each) if text)
    )
