"""Currencies' minor units: how many decimals an amount in a provider's smallest unit has.

Stripe and Paddle both take amounts as integers in the currency's smallest unit: cents for
EUR (``2900`` is 29.00 EUR), but whole yen for JPY (``2900`` is 2,900 JPY). The exponents
here are Stripe's (its zero-decimal and three-decimal lists, which follow ISO 4217 except
where Stripe says otherwise); Paddle's zero-decimal currencies (JPY, KRW) are among them.
"""

from __future__ import annotations

from decimal import Decimal

#: Currencies whose amounts have no minor unit (``1500`` JPY is 1,500 yen).
# fmt: off
ZERO_DECIMAL: frozenset[str] = frozenset((
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
))
# fmt: on
#: Currencies whose amounts have three decimals (``5124`` KWD is 5.124 dinars).
THREE_DECIMAL: frozenset[str] = frozenset(("bhd", "jod", "kwd", "omr", "tnd"))
MINUS = "\N{MINUS SIGN}"


def minor_units(currency: str) -> int:
    """The number of decimals of ``currency`` (an ISO 4217 code, any case): 0, 2 or 3."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    """``2900, "eur"`` → ``Decimal("29.00")``; ``2900, "jpy"`` → ``Decimal("2900")``. Exact."""
    return Decimal(amount).scaleb(-minor_units(currency))


def format_amount(amount: int, currency: str, *, grouping: bool = False) -> str:
    """``1500, "eur"`` → ``"15.00 EUR"``, ``1500, "jpy"`` → ``"1500 JPY"``.

    With ``grouping``, thousands are separated by commas (``"1,500 JPY"``). The code follows
    the amount, which reads the same in every language (no locale's symbol or order).
    """
    places = minor_units(currency)
    number = format(to_major(amount, currency), f"{',' if grouping else ''}.{places}f")
    return f"{number.replace('-', MINUS)} {currency.upper()}"
