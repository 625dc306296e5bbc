"""Billing periods: calendar arithmetic on Paddle's intervals (day, week, month, year)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from .store import iso, parse_time


def add_interval(timestamp: float, interval: str, frequency: int) -> float:
    """`timestamp` moved on by `frequency` intervals; a month end stays within its month."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    if interval == "day":
        moment += dt.timedelta(days=frequency)
    elif interval == "week":
        moment += dt.timedelta(weeks=frequency)
    else:
        months = frequency * (12 if interval == "year" else 1)
        year, month = divmod(moment.month - 1 + months, 12)
        year += moment.year
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        moment = moment.replace(year=year, month=month + 1, day=day)
    return moment.timestamp()


def period(start: float, cycle: dict[str, Any]) -> dict[str, str]:
    return {
        "starts_at": iso(start),
        "ends_at": iso(add_interval(start, cycle["interval"], cycle["frequency"])),
    }


def ends(entity_period: dict[str, str] | None) -> float | None:
    return parse_time(entity_period["ends_at"]) if entity_period else None


def share_left(entity_period: dict[str, str], now: float) -> float:
    """The part of a billing period still ahead at `now` (0 to 1), for prorations."""
    start = parse_time(entity_period["starts_at"])
    end = parse_time(entity_period["ends_at"])
    if end <= start:
        return 0.0
    return max(0.0, min(1.0, (end - now) / (end - start)))
