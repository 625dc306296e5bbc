"""``{{ amount|money:currency }}``: an amount in minor units as a readable price."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

#: ISO 4217 currencies without minor units (the ones a demo may meet).
ZERO_DECIMAL = frozenset({"jpy", "krw", "vnd", "clp", "isk"})


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    if amount is None:
        return "-"
    code = (currency or "").lower()
    if code in ZERO_DECIMAL:
        return f"{amount} {code.upper()}"
    return f"{Decimal(amount) / 100:.2f} {code.upper()}".strip()
