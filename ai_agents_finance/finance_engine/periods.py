"""Date ranges and the day / week / month buckets of a cash-flow statement."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

__all__ = [
    "GRANULARITIES",
    "FinanceInputError",
    "bucket_end",
    "bucket_start",
    "bucket_starts",
    "cash_flow_rows",
    "parse_date",
    "parse_range",
]

GRANULARITIES = ("day", "week", "month")


class FinanceInputError(ValueError):
    """Input a finance tool rejects; the message is meant for the model."""


def parse_date(value: str | None, name: str) -> date | None:
    """``value`` as a date, None when empty.

    Raises:
        FinanceInputError: The value is not an ISO date (YYYY-MM-DD).
    """
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FinanceInputError(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None


def parse_range(date_from: str | None, date_to: str | None, *, default_to: date) -> tuple[date | None, date]:
    """The (from, to) dates of a tool call; ``to`` defaults to ``default_to`` (today).

    Raises:
        FinanceInputError: A date is malformed or the range is reversed.
    """
    start = parse_date(date_from, "date_from")
    end = parse_date(date_to, "date_to") or default_to
    if start is not None and start > end:
        raise FinanceInputError(
            f"date_from {start.isoformat()} is after date_to {end.isoformat()}: the range is reversed"
        )
    return start, end


def _money(value: float, digits: int) -> float:
    # Adding 0.0 turns -0.0 into 0.0, which a model would read as a sign.
    return round(value, digits) + 0.0


def _check_granularity(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise FinanceInputError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")


def bucket_start(day: date, granularity: str, week_start: int = 1) -> date:
    """First day of the bucket holding ``day``.

    Args:
        day: Any date.
        granularity: ``day``, ``week`` or ``month``.
        week_start: First day of the week as Odoo's languages say it (1 = Monday ... 7 = Sunday),
            so the buckets are those of the ORM's ``date:week`` grouping.
    """
    _check_granularity(granularity)
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=(day.weekday() - (week_start - 1)) % 7)
    return day.replace(day=1)


def bucket_end(start: date, granularity: str) -> date:
    """Last day of the bucket starting on ``start``."""
    _check_granularity(granularity)
    if granularity == "day":
        return start
    if granularity == "week":
        return start + timedelta(days=6)
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def bucket_starts(date_from: date, date_to: date, granularity: str, week_start: int = 1) -> list[date]:
    """The first days of every bucket meeting the range, in order."""
    starts = []
    current = bucket_start(date_from, granularity, week_start)
    while current <= date_to:
        starts.append(current)
        current = bucket_end(current, granularity) + timedelta(days=1)
    return starts


def cash_flow_rows(
    opening: float,
    movements: Mapping[date, tuple[float, float]],
    date_from: date,
    date_to: date,
    granularity: str,
    *,
    week_start: int = 1,
    digits: int = 2,
) -> list[dict[str, Any]]:
    """One row per bucket of the range, empty buckets included, chaining opening to closing.

    Args:
        opening: Balance before ``date_from``.
        movements: ``(inflows, outflows)`` by bucket start, both positive.
        date_from: First day; the first row starts here even mid-bucket.
        date_to: Last day; the last row ends here.
        granularity: ``day``, ``week`` or ``month``.
        week_start: See :func:`bucket_start`.
        digits: Decimal places of the currency; every figure is rounded to them so that each
            closing is exactly the next opening.

    Raises:
        ValueError: A movement's bucket is not one of the range's (its grouping differs).
    """
    starts = bucket_starts(date_from, date_to, granularity, week_start)
    unexpected = set(movements) - set(starts)
    if unexpected:
        raise ValueError(f"movements outside the buckets of the range: {sorted(unexpected)}")
    rows = []
    balance = _money(opening, digits)
    for start in starts:
        inflows, outflows = movements.get(start, (0.0, 0.0))
        inflows, outflows = _money(inflows, digits), _money(outflows, digits)
        closing = _money(balance + inflows - outflows, digits)
        rows.append(
            {
                "start": max(start, date_from).isoformat(),
                "end": min(bucket_end(start, granularity), date_to).isoformat(),
                "opening": balance,
                "inflows": inflows,
                "outflows": outflows,
                "closing": closing,
            }
        )
        balance = closing
    return rows
