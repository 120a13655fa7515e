"""GetProfitAndLoss, GetBalanceSheet and GetTrialBalance: the statements of the general ledger.

Each one reads the journal items once: one ``GROUP BY account`` whose sums are each filtered to
their period (``SUM(...) FILTER (WHERE ...)``), over the items the user may read (``_search``:
record rules included). Accounts are sorted into sections by their type, as Odoo's own report
lines do.
"""

from datetime import timedelta

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import tool, toolkit

from ..finance_engine import (
    BALANCE_SHEET,
    COMPARISONS,
    PROFIT_AND_LOSS,
    PROFIT_AND_LOSS_TYPES,
    FinanceInputError,
    comparison_range,
    parse_date,
    profit_figures,
    statement_sections,
)
from . import common
from .ledger import _ACCOUNT_CODE, _ACCOUNT_TYPES, _accounts

TRIAL_DEFAULT_ROWS = 100
TRIAL_MAX_ROWS = 500
BALANCE_SHEET_COMPARISONS = ("previous_year_end", "same_date_last_year", "none")


def account_sums(ctx, domain, columns):
    """``{account: {column: sum}}`` of the posted journal items of ``domain`` the user may read.

    Args:
        ctx: The tool context.
        domain: Which journal items (the company, the widest date range of the columns...).
        columns: ``{name: (field, condition)}``: the sum of ``field`` over the items matching
            ``condition(date_sql)`` (an SQL condition on the item's date), or all when None.
    """
    Line = ctx.env["account.move.line"]
    query = Line._search(Domain(domain) & Domain("parent_state", "=", "posted"))
    account = Line._field_to_sql(query.table, "account_id", query)
    # Section and note lines of invoices carry no account (and no amount).
    query.add_where(SQL("%s IS NOT NULL", account))
    day = Line._field_to_sql(query.table, "date", query)
    sums = []
    for fname, condition in columns.values():
        figure = Line._field_to_sql(query.table, fname, query)
        if condition is None:
            sums.append(SQL("COALESCE(SUM(%s), 0)", figure))
        else:
            sums.append(SQL("COALESCE(SUM(%s) FILTER (WHERE %s), 0)", figure, condition(day)))
    query.groupby = account
    rows = ctx.env.execute_query(query.select(account, *sums))
    accounts = ctx.env["account.account"].with_context(active_test=False).browse(row[0] for row in rows)
    return {
        account: {name: float(value) for name, value in zip(columns, row[1:], strict=True)}
        for account, row in zip(accounts, rows, strict=True)
    }


def between(start, end):
    """The SQL condition ``start <= date <= end`` (either side open when None)."""

    def condition(day):
        parts = []
        if start:
            parts.append(SQL("%s >= %s", day, start))
        if end:
            parts.append(SQL("%s <= %s", day, end))
        return SQL(" AND ").join(parts) if parts else SQL("TRUE")

    return condition


def _rows(sums):
    return [
        {"code": account.code, "name": account.name, "type": account.account_type, **figures}
        for account, figures in sums.items()
    ]


def _date(value, name):
    try:
        return parse_date(value, name)
    except FinanceInputError as exc:
        raise ToolInputError(str(exc)) from None


def _period(start, end):
    return {"date_from": start.isoformat(), "date_to": end.isoformat()}


# === PROFIT AND LOSS === #


def _pl_comparison(args, date_from, date_to):
    start, end = (
        _date(args.get("compare_date_from"), "compare_date_from"),
        _date(args.get("compare_date_to"), "compare_date_to"),
    )
    if start or end:
        if not (start and end):
            raise ToolInputError("give both compare_date_from and compare_date_to, or neither")
        if start > end:
            raise ToolInputError(f"compare_date_from {start} is after compare_date_to {end}")
        return start, end
    return comparison_range(date_from, date_to, args.get("comparison") or "previous_period")


@tool(
    "finance.get_profit_and_loss",
    display_name="GetProfitAndLoss",
    description="Profit and loss of the conversation's company for a period, with a comparison period "
    "(by default the previous period: the same number of whole months just before, e.g. Q1 for Q2, "
    "else the same number of days; or the same dates a year earlier, or explicit dates, or none). "
    "Sections by account type as in Odoo's report: operating income (income), cost of revenue "
    "(expense_direct_cost), gross profit, other income (income_other), expenses (expense, "
    "expense_depreciation), other expenses (expense_other), net profit. Income and expenses both "
    "read positive; net profit = income - expenses. Posted entries, company currency. Each "
    "section lists its accounts, largest first.",
    input_schema=toolkit.object_schema(
        {
            "date_from": common.PERIOD_FROM,
            "date_to": common.PERIOD_TO,
            "comparison": {"enum": list(COMPARISONS), "default": "previous_period"},
            "compare_date_from": {
                **common.DATE,
                "description": "Explicit comparison period (with compare_date_to).",
            },
            "compare_date_to": common.DATE,
        },
        required=["date_from", "date_to"],
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_profit_and_loss(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    date_from, date_to = common.date_range(args, ctx, require_from=True)
    previous = _pl_comparison(args, date_from, date_to)
    columns = {"current": ("balance", between(date_from, date_to))}
    widest = [date_from, date_to]
    if previous:
        columns["previous"] = ("balance", between(*previous))
        widest = [min(date_from, previous[0]), max(date_to, previous[1])]
    sums = account_sums(
        ctx,
        [
            ("company_id", "=", current.id),
            ("date", ">=", widest[0]),
            ("date", "<=", widest[1]),
            ("account_id.account_type", "in", PROFIT_AND_LOSS_TYPES),
        ],
        columns,
    )
    sections = statement_sections(
        PROFIT_AND_LOSS, _rows(sums), tuple(columns), digits=currency.decimal_places
    )
    profit = {
        column: profit_figures(
            {key: section["totals"][column] for key, section in sections.items()}, currency.decimal_places
        )
        for column in columns
    }
    return {
        "company": current.name,
        **common.currency_info(currency),
        "entries": "posted",
        "period": _period(date_from, date_to),
        "comparison_period": _period(*previous) if previous else None,
        "sections": sections,
        "gross_profit": {column: profit[column]["gross_profit"] for column in columns},
        "net_profit": {column: profit[column]["net_profit"] for column in columns},
    }


# === BALANCE SHEET === #


def _fiscal_year_start(company, day):
    return company.compute_fiscalyear_dates(day)["date_from"]


def _bs_comparison(args, company, as_of):
    explicit = _date(args.get("compare_date"), "compare_date")
    if explicit:
        return explicit
    mode = args.get("comparison") or "previous_year_end"
    if mode == "none":
        return None
    if mode == "same_date_last_year":
        return comparison_range(as_of, as_of, "previous_year")[1]
    return _fiscal_year_start(company, as_of) - timedelta(days=1)


def _earnings(sums, key):
    """(current year, previous years) earnings as of column ``key``: the income and expense
    accounts' balances since the fiscal year's start, and before it plus the undistributed
    earnings account (equity_unaffected); positive for a profit."""
    pl_types = set(PROFIT_AND_LOSS_TYPES)
    current_year = previous_years = 0.0
    for account, figures in sums.items():
        if account.account_type in pl_types:
            current_year -= figures[f"{key}_year"]
            previous_years -= figures[f"{key}_all"] - figures[f"{key}_year"]
        elif account.account_type == "equity_unaffected":
            previous_years -= figures[f"{key}_all"]
    return current_year, previous_years


@tool(
    "finance.get_balance_sheet",
    display_name="GetBalanceSheet",
    description="Balance sheet of the conversation's company as of a date, with a comparison date (by "
    "default the end of the previous fiscal year; or the same date a year earlier, an explicit date, "
    "or none). Sections by account type as in Odoo's report: current assets (bank and cash, "
    "receivables, current assets, prepayments), fixed and non-current assets; current liabilities "
    "(payables, credit cards, current liabilities) and non-current liabilities; equity accounts, "
    "previous years' earnings (income and expense accounts before the fiscal year's start, plus the "
    "undistributed earnings account) and current year earnings (income minus expenses since the "
    "fiscal year's start). Liabilities and equity read positive; total assets = total liabilities + "
    "equity. Posted entries, company currency; off-balance accounts left out.",
    input_schema=toolkit.object_schema(
        {
            "date": {**common.DATE, "description": "As of this day, included (YYYY-MM-DD); default today."},
            "comparison": {"enum": list(BALANCE_SHEET_COMPARISONS), "default": "previous_year_end"},
            "compare_date": {**common.DATE, "description": "Explicit comparison date."},
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_balance_sheet(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    digits = currency.decimal_places
    as_of = common.date_range({"date_to": args.get("date")}, ctx)[1]
    dates = {"current": as_of}
    compare = _bs_comparison(args, current, as_of)
    if compare:
        dates["previous"] = compare
    columns = {}
    for key, day in dates.items():
        columns[f"{key}_all"] = ("balance", between(None, day))
        columns[f"{key}_year"] = ("balance", between(_fiscal_year_start(current, day), day))
    sums = account_sums(
        ctx,
        [
            ("company_id", "=", current.id),
            ("date", "<=", max(dates.values())),
            ("account_id.account_type", "!=", "off_balance"),
        ],
        columns,
    )
    keys = tuple(dates)
    rows = [{**row, **{key: row[f"{key}_all"] for key in keys}} for row in _rows(sums)]
    sections = statement_sections(BALANCE_SHEET, rows, keys, digits=digits)
    earnings = {key: _earnings(sums, key) for key in keys}

    def part(section_keys):
        return {key: sections[key] for key in section_keys}

    def total(*amounts):
        return {key: round(sum(amount[key] for amount in amounts), digits) + 0.0 for key in keys}

    assets = part(("current_assets", "fixed_assets", "non_current_assets"))
    liabilities = part(("current_liabilities", "non_current_liabilities"))
    equity = part(("equity",))
    current_year = {key: round(earnings[key][0], digits) + 0.0 for key in keys}
    previous_years = {key: round(earnings[key][1], digits) + 0.0 for key in keys}
    liabilities_total = total(*(section["totals"] for section in liabilities.values()))
    equity_total = total(equity["equity"]["totals"], current_year, previous_years)
    return {
        "company": current.name,
        **common.currency_info(currency),
        "entries": "posted",
        "date": as_of.isoformat(),
        "comparison_date": compare.isoformat() if compare else None,
        "assets": {"sections": assets, "total": total(*(section["totals"] for section in assets.values()))},
        "liabilities": {"sections": liabilities, "total": liabilities_total},
        "equity": {
            "sections": equity,
            "previous_years_earnings": previous_years,
            "current_year_earnings": current_year,
            "total": equity_total,
        },
        "liabilities_and_equity": total(liabilities_total, equity_total),
    }


# === TRIAL BALANCE === #


@tool(
    "finance.get_trial_balance",
    display_name="GetTrialBalance",
    description="Trial balance of the conversation's company for a period: per account, the opening "
    "balance (every posted entry before date_from), the period's debit and credit, and the closing "
    "balance (opening + debit - credit), in the company currency. Balances are debit - credit. "
    "Archived accounts included; accounts with no figure left out. Filters: account code prefix, "
    "account types. Totals over every matching account, then the first `limit` accounts by code.",
    input_schema=toolkit.object_schema(
        {
            "date_from": common.PERIOD_FROM,
            "date_to": {**common.DATE, "description": "Last day, included (YYYY-MM-DD); default today."},
            "account_code": _ACCOUNT_CODE,
            "account_types": _ACCOUNT_TYPES,
            "limit": toolkit.limit_schema(TRIAL_DEFAULT_ROWS, TRIAL_MAX_ROWS, "accounts"),
        },
        required=["date_from"],
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_trial_balance(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    date_from, date_to = common.date_range(args, ctx, require_from=True)
    domain = [("company_id", "=", current.id), ("date", "<=", date_to)]
    if args.get("account_code") or args.get("account_types"):
        accounts = _accounts(ctx, args.get("account_code"), args.get("account_types"))
        domain.append(("account_id", "in", accounts.ids))
    before = between(None, date_from - timedelta(days=1))
    sums = account_sums(
        ctx,
        domain,
        {
            "opening": ("balance", before),
            "debit": ("debit", between(date_from, None)),
            "credit": ("credit", between(date_from, None)),
            "closing": ("balance", None),
        },
    )
    rows = sorted(
        (
            {
                "code": account.code,
                "name": account.name,
                "type": account.account_type,
                **{name: common.money(currency, value) for name, value in figures.items()},
                **({"archived": True} if not account.active else {}),
            }
            for account, figures in sums.items()
        ),
        key=lambda row: row["code"] or "",
    )
    rows = [row for row in rows if any(row[name] for name in ("opening", "debit", "credit", "closing"))]
    limit = common.limit(args, TRIAL_DEFAULT_ROWS, TRIAL_MAX_ROWS)
    return {
        "company": current.name,
        **common.currency_info(currency),
        "entries": "posted",
        "period": _period(date_from, date_to),
        "totals": {
            name: common.money(currency, sum(figures[name] for figures in sums.values()))
            for name in ("opening", "debit", "credit", "closing")
        },
        "account_count": len(rows),
        "accounts": rows[:limit],
        "truncated": len(rows) > limit,
    }
