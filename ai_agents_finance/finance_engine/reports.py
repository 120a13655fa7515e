"""The shapes of the financial reports: aging buckets, comparison periods, the sections of the
profit and loss and of the balance sheet (by account type, as Odoo's report lines group them)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .periods import FinanceInputError

__all__ = [
    "AGING_BUCKETS",
    "BALANCE_SHEET",
    "COMPARISONS",
    "PROFIT_AND_LOSS",
    "PROFIT_AND_LOSS_TYPES",
    "AgingBucket",
    "Section",
    "aging_bucket",
    "comparison_range",
    "profit_figures",
    "statement_sections",
]


@dataclass(frozen=True)
class AgingBucket:
    """Items ``low`` to ``high`` days past due, bounds included (None: open-ended)."""

    key: str
    label: str
    low: int | None
    high: int | None


# The columns of Odoo's aged receivable / payable report: "at date" (due on the day or later),
# then 30-day periods of days past due, then older.
AGING_BUCKETS = (
    AgingBucket("not_due", "Not due", None, 0),
    AgingBucket("1-30", "1-30 days past due", 1, 30),
    AgingBucket("31-60", "31-60 days past due", 31, 60),
    AgingBucket("61-90", "61-90 days past due", 61, 90),
    AgingBucket("91-120", "91-120 days past due", 91, 120),
    AgingBucket("older", "Older (over 120 days)", 121, None),
)


def aging_bucket(days_past_due: int) -> AgingBucket:
    """The bucket of an item ``days_past_due`` days after its due date (negative: not due yet)."""
    for bucket in AGING_BUCKETS:
        if (bucket.low is None or days_past_due >= bucket.low) and (
            bucket.high is None or days_past_due <= bucket.high
        ):
            return bucket
    raise AssertionError("the buckets cover every day")  # pragma: no cover


# === COMPARISON PERIODS === #

COMPARISONS = ("previous_period", "previous_year", "none")


def _whole_months(date_from: date, date_to: date) -> int | None:
    """How many calendar months the range covers exactly, None when it does not."""
    last_day = calendar.monthrange(date_to.year, date_to.month)[1]
    if date_from.day != 1 or date_to.day != last_day:
        return None
    return (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1


def _shift_months(day: date, months: int, *, end: bool) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, last if end else min(day.day, last))


def comparison_range(date_from: date, date_to: date, mode: str) -> tuple[date, date] | None:
    """The period ``date_from``..``date_to`` is compared with.

    ``previous_period``: the same number of whole months just before when the range is made of
    whole months (Q2 → Q1, March → February), else the same number of days just before.
    ``previous_year``: the same dates a year earlier (29 February → 28 February).
    ``none``: None.

    Raises:
        FinanceInputError: An unknown mode.
    """
    if mode == "none":
        return None
    if mode == "previous_year":
        return _shift_months(date_from, 12, end=False), _shift_months(
            date_to, 12, end=date_to.day == calendar.monthrange(date_to.year, date_to.month)[1]
        )
    if mode == "previous_period":
        months = _whole_months(date_from, date_to)
        if months:
            return _shift_months(date_from, months, end=False), _shift_months(date_to, months, end=True)
        days = (date_to - date_from).days + 1
        return date_from - timedelta(days=days), date_from - timedelta(days=1)
    raise FinanceInputError(f"comparison must be one of {', '.join(COMPARISONS)}, not {mode!r}")


# === STATEMENT SECTIONS === #


@dataclass(frozen=True)
class Section:
    """A section of a statement: the accounts of ``account_types``, their balances times ``sign``
    (so that income, liabilities and equity read positive)."""

    key: str
    label: str
    account_types: tuple[str, ...]
    sign: int


# Odoo's profit and loss: operating income, cost of revenue (gross profit = the first minus the
# second), other income, expenses (depreciation included), other expenses.
PROFIT_AND_LOSS = (
    Section("income", "Operating income", ("income",), -1),
    Section("cost_of_revenue", "Cost of revenue", ("expense_direct_cost",), 1),
    Section("other_income", "Other income", ("income_other",), -1),
    Section("expenses", "Expenses", ("expense", "expense_depreciation"), 1),
    Section("other_expenses", "Other expenses", ("expense_other",), 1),
)
PROFIT_AND_LOSS_TYPES = tuple(t for section in PROFIT_AND_LOSS for t in section.account_types)


def profit_figures(totals: Mapping[str, float], digits: int = 2) -> dict[str, float]:
    """Gross and net profit from the P&L sections' totals (income positive, expenses positive)."""
    gross = totals["income"] - totals["cost_of_revenue"]
    net = gross + totals["other_income"] - totals["expenses"] - totals["other_expenses"]
    return {"gross_profit": round(gross, digits) + 0.0, "net_profit": round(net, digits) + 0.0}


# Odoo's balance sheet; the earnings lines are the income and expense accounts' balances, so that
# assets = liabilities + equity.
BALANCE_SHEET = (
    Section(
        "current_assets",
        "Current assets",
        ("asset_cash", "asset_receivable", "asset_current", "asset_prepayments"),
        1,
    ),
    Section("fixed_assets", "Fixed assets", ("asset_fixed",), 1),
    Section("non_current_assets", "Non-current assets", ("asset_non_current",), 1),
    Section(
        "current_liabilities",
        "Current liabilities",
        ("liability_current", "liability_payable", "liability_credit_card"),
        -1,
    ),
    Section("non_current_liabilities", "Non-current liabilities", ("liability_non_current",), -1),
    Section("equity", "Equity", ("equity",), -1),
)


def statement_sections(
    sections: Iterable[Section],
    rows: Iterable[Mapping[str, Any]],
    columns: tuple[str, ...],
    *,
    digits: int = 2,
) -> dict[str, dict[str, Any]]:
    """Each section's total per column and its accounts (largest first by the first column).

    Args:
        sections: The statement's sections.
        rows: One per account: ``type`` (account type), ``code``, ``name`` and a balance (debit
            minus credit) for each of ``columns``.
        columns: The figures' names, e.g. ``("current", "previous")``.
        digits: The currency's decimal places.

    Returns:
        ``{section key: {"label", "totals": {column: amount}, "accounts": [{code, name,
        column: amount...}]}}``, amounts signed by the section (income and liabilities positive);
        accounts with every figure zero are left out.
    """
    sections = tuple(sections)
    by_type = {account_type: section for section in sections for account_type in section.account_types}
    result = {
        section.key: {"label": section.label, "totals": dict.fromkeys(columns, 0.0), "accounts": []}
        for section in sections
    }
    for row in rows:
        section = by_type.get(row["type"])
        if section is None:
            continue
        figures = {column: round(section.sign * (row[column] or 0.0), digits) + 0.0 for column in columns}
        if not any(figures.values()):
            continue
        entry = result[section.key]
        entry["accounts"].append({"code": row["code"], "name": row["name"], **figures})
        for column in columns:
            entry["totals"][column] += figures[column]
    for entry in result.values():
        entry["totals"] = {column: round(value, digits) + 0.0 for column, value in entry["totals"].items()}
        entry["accounts"].sort(key=lambda account: (-abs(account[columns[0]]), account["code"]))
    return result
