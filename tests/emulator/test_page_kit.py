"""The emulators' page kit: amounts by currency, dates, escaping, a page that needs no network."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from django_payments_sync import currencies
from django_payments_sync.testing import emulator_pages as ui

EVIL = "<script>alert('x')</script> & \"Co\""


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (2900, "eur", "29.00 EUR"),
        (5, "usd", "0.05 USD"),
        (123456789, "EUR", "1,234,567.89 EUR"),
        (2900, "jpy", "2,900 JPY"),
        (1500000, "krw", "1,500,000 KRW"),
        (7, "xof", "7 XOF"),
        (5124, "kwd", "5.124 KWD"),
        (-1250, "gbp", "\N{MINUS SIGN}12.50 GBP"),
        (0, "jpy", "0 JPY"),
    ],
)
def test_money_in_the_currencys_minor_units(amount: int, currency: str, shown: str) -> None:
    assert ui.money(amount, currency) == shown


def test_minor_units_are_exact() -> None:
    assert currencies.minor_units("JPY") == 0
    assert currencies.minor_units("bhd") == 3
    assert currencies.minor_units("chf") == 2
    # No float on the way: a large amount keeps its last cent.
    assert currencies.to_major(999_999_999_999_999_99, "eur") == Decimal("999999999999999.99")
    assert currencies.format_amount(1500, "jpy") == "1500 JPY"  # the mails' form: no grouping


@pytest.mark.parametrize(
    "moment",
    [
        1_796_212_800,  # 2026-12-02 12:00 UTC
        "2026-12-02T12:00:00.000000Z",  # Paddle's RFC 3339
        "2026-12-03T01:00:00+13:00",  # another zone: shown in UTC
        datetime.datetime(2026, 12, 2, 12, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 2, 12),
    ],
)
def test_dates(moment: object) -> None:
    assert ui.date(moment) == "2 December 2026"  # type: ignore[arg-type]


def test_no_date_and_intervals() -> None:
    assert ui.date(None) == ""
    assert ui.every("month") == "per month"
    assert ui.every("month", 3) == "every 3 months"
    assert ui.every(None) == ""
    assert ui.billed("month") == "Billed monthly"
    assert ui.billed("week", 2) == "Billed every 2 weeks"
    assert ui.billed(None) == "One-time payment"


def test_text_and_attributes_are_escaped() -> None:
    table = ui.line_items(
        [ui.Line(EVIL, 2900, "eur", quantity=2, unit_amount=1450, detail=EVIL)],
        currency="eur",
        total=2900,
    )
    form = ui.button("/x'><script>", EVIL, {"a'b": EVIL})
    choose = ui.select("price", EVIL, [("p'1", EVIL)], id="switch")
    status, _, body = ui.page(EVIL, ui.join(table, form, choose, ui.alert(EVIL), EVIL))
    text = body.decode()
    assert status == 200
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Co&quot;" in text
    assert "action='/x&#x27;&gt;&lt;script&gt;'" in text
    assert "name='a&#x27;b'" in text
    assert "value='p&#x27;1'" in text
    assert "14.50 EUR each" in text


def test_a_page_needs_nothing_from_the_network() -> None:
    summary = ui.join(ui.headline(2900, "eur", "month"))
    _, headers, body = ui.page("Checkout", ui.actions(ui.button("/pay", "Pay")), summary=summary)
    text = body.decode()
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in text
    assert not re.search(r"<link|<script|\bsrc=|@import|url\(", text)
    assert "class='ps-wrap ps-main ps-split'" in text  # two columns with a summary
    assert "class='ps-wrap ps-main'" in ui.page("Plain", "x")[2].decode()


def test_line_items_total_rows() -> None:
    lines = [ui.Line("Team", 2900, "eur", detail="Billed monthly")]
    full = ui.line_items(lines, currency="eur", subtotal=2900, tax=551, total=3451)
    assert re.findall(r"<th scope='row' colspan='2'>([^<]+)</th>", full) == [
        "Subtotal",
        "Tax",
        "Total",
    ]
    assert "<td class='ps-num' id='total'>34.51 EUR</td>" in full
    bare = ui.line_items(lines, currency="eur", total=2900, total_id="due", total_label="Due")
    assert re.findall(r"<th scope='row' colspan='2'>([^<]+)</th>", bare) == ["Due"]
    assert "id='due'" in bare


def test_status_pills() -> None:
    assert "ps-pill ok" in ui.pill("active")
    assert "ps-pill bad" in ui.pill("canceled")
    assert ">past due<" in ui.pill("past_due")
    assert "ps-pill '" in ui.pill("something_new")
    assert ui.redirect("/next") == (303, {"Location": "/next", "Content-Type": "text/plain"}, b"")
