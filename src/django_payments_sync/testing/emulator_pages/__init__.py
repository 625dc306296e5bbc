"""A page kit for the emulators' hosted pages (checkout, billing portal, invoices).

Every emulator builds its pages from these pieces, so they look alike, read like a provider's
hosted page, and render offline: the stylesheet is inline, nothing is fetched. Text is escaped
as Django's ``format_html`` escapes it (the kit uses it); pieces of the kit are safe HTML and
are not escaped twice. A page is one or two columns: a panel with the title and the actions,
and an optional order summary beside it on a desktop (above it on a phone)::

    from django_payments_sync.testing import emulator_pages as ui

    summary = ui.join(
        ui.headline(2900, "eur", "month"),
        ui.line_items(
            [ui.Line("Team", 2900, "eur", detail="Billed monthly")],
            currency="eur", subtotal=2900, tax=0, total=2900,
        ),
    )
    body = ui.actions(
        ui.button("/c/pay/cs_1/pay", "Pay"),
        ui.button("/c/pay/cs_1/cancel", "Cancel", kind="link"),
    )
    status, headers, content = ui.page("Checkout", body, summary=summary, brand=ui.STRIPE)

``ui.money(2900, "eur")`` is ``"29.00 EUR"`` and ``ui.money(2900, "jpy")`` ``"2,900 JPY"``
(amounts in minor units, the currency's own decimals); ``ui.date`` takes a Unix timestamp, an
RFC 3339 string or a datetime and gives ``"2 December 2026"``. For markup of your own, the
kit re-exports Django's ``format_html`` and ``format_html_join``.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join

from .layout import PADDLE, STRIPE, Brand, PageResult, document, escape, page, redirect
from .parts import (
    Line,
    actions,
    alert,
    billed,
    button,
    card,
    date,
    details,
    every,
    form,
    headline,
    hidden,
    join,
    line_items,
    money,
    pill,
    select,
)

__all__ = [
    "PADDLE",
    "STRIPE",
    "Brand",
    "Line",
    "PageResult",
    "actions",
    "alert",
    "billed",
    "button",
    "card",
    "date",
    "details",
    "document",
    "escape",
    "every",
    "form",
    "format_html",
    "format_html_join",
    "headline",
    "hidden",
    "join",
    "line_items",
    "money",
    "page",
    "pill",
    "redirect",
    "select",
]
