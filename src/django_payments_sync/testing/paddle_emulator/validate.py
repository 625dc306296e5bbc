"""Request body checks: each operation names its fields; bad input is a 400 naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import invalid
from .store import parse_time

Check = Callable[[str, Any], Any]


def fields(
    body: dict[str, Any],
    allowed: dict[str, Check],
    required: Iterable[str] = (),
    *,
    prefix: str = "",
) -> dict[str, Any]:
    """Check `body` against `allowed` (unknown fields refused); return the checked values."""
    if not isinstance(body, dict):
        raise invalid(prefix.rstrip(".") or "(root)", "must be an object")
    for name in required:
        if body.get(name) is None:
            raise invalid(prefix + name, "is required")
    out = {}
    for name, value in body.items():
        check = allowed.get(name)
        if check is None:
            raise invalid(prefix + name, "property is not allowed")
        out[name] = check(prefix + name, value)
    return out


def nullable(check: Check) -> Check:
    return lambda name, value: None if value is None else check(name, value)


def string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def text(name: str, value: Any) -> str:
    """A non-empty string of at most 200 characters (names, descriptions)."""
    value = string(name, value)
    if not value.strip():
        raise invalid(name, "must not be empty")
    if len(value) > 1024:
        raise invalid(name, "must be at most 1024 characters")
    return value


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, "must be a boolean")
    return value


def integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "must be an integer")
    return value


def positive(name: str, value: Any) -> int:
    value = integer(name, value)
    if value < 1:
        raise invalid(name, "must be at least 1")
    return value


def enum(*choices: str) -> Check:
    def check(name: str, value: Any) -> str:
        if value not in choices:
            raise invalid(name, f"must be one of {', '.join(choices)}")
        return str(value)

    return check


def id_of(prefix: str) -> Check:
    pattern = re.compile(rf"^{prefix}_[a-z\d]{{26}}$")

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise invalid(name, f"must be a valid {prefix}_ id")
        return value

    return check


def custom_data(name: str, value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise invalid(name, "must be an object or null")
    return value


def email(name: str, value: Any) -> str:
    value = string(name, value)
    if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
        raise invalid(name, "must be a valid email address")
    return value


def country(name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^[A-Z]{2}$", value):
        raise invalid(name, "must be a two-letter ISO 3166-1 alpha-2 country code")
    return value


def currency(name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^[A-Z]{3}$", value):
        raise invalid(name, "must be a three-letter ISO 4217 currency code")
    return value


def amount(name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^\d+$", value):
        raise invalid(name, "must be a string of digits (the lowest denomination)")
    return value


def timestamp(name: str, value: Any) -> str:
    value = string(name, value)
    try:
        parse_time(value)
    except ValueError:
        raise invalid(name, "must be an RFC 3339 date-time") from None
    return value


def listof(check: Check) -> Check:
    def checked(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise invalid(name, "must be an array")
        return [check(f"{name}[{i}]", v) for i, v in enumerate(value)]

    return checked


def obj(allowed: dict[str, Check], required: Iterable[str] = ()) -> Check:
    return lambda name, value: fields(value, allowed, tuple(required), prefix=name + ".")


INTERVAL = enum("day", "week", "month", "year")
DURATION = obj({"interval": INTERVAL, "frequency": positive}, ("interval", "frequency"))
MONEY = obj({"amount": amount, "currency_code": currency}, ("amount", "currency_code"))
STATUS = enum("active", "archived")
