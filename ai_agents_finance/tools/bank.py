"""GetCashFlow, GetBankBalance and GetBankTransactions: liquidity accounts and bank statements."""

from datetime import timedelta

from odoo.fields import Domain
from odoo.tools.misc import get_lang

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import apply_filters, tool, toolkit

from ..finance_engine import GRANULARITIES, bucket_starts, cash_flow_rows
from . import common
from .ledger import gl_domain

MAX_PERIODS = 62
TRANSACTIONS_DEFAULT_ROWS = 20
TRANSACTIONS_MAX_ROWS = 100
LIQUIDITY_JOURNALS = ("bank", "cash")
LINE_FILTERS = (common.JOURNAL_FILTER, common.PARTNER_FILTER)


def _liquidity_journals(ctx, value):
    """The bank and cash journals of the session's company, archived ones included (their entries
    are still in the ledger), or the one journal ``value`` designates."""
    if value is not None:
        return common.resolve_journal(ctx.env, value, types=LIQUIDITY_JOURNALS)
    return (
        ctx.env["account.journal"]
        .with_context(active_test=False)
        .search([("company_id", "=", common.company(ctx).id), ("type", "in", LIQUIDITY_JOURNALS)])
    )


@tool(
    "finance.get_cash_flow",
    display_name="GetCashFlow",
    description="Cash flow of the conversation's company from its liquidity accounts (bank and cash "
    "accounts, archived ones included, or one bank/cash journal's account): opening balance, inflows, "
    "outflows and closing balance for each day, week or month of the range, in the company currency, "
    f"posted entries. At most {MAX_PERIODS} periods: use a coarser granularity for long ranges.",
    input_schema=toolkit.object_schema(
        {
            "date_from": {**common.DATE, "description": "First day (YYYY-MM-DD)."},
            "date_to": {**common.DATE, "description": "Last day, included (YYYY-MM-DD)."},
            "granularity": {"enum": list(GRANULARITIES), "default": "month"},
            "journal": {**common.JOURNAL, "description": "Only this bank or cash journal's account."},
        },
        required=["date_from", "date_to"],
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_cash_flow(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    date_from, date_to = common.date_range(args, ctx, require_from=True)
    granularity = args.get("granularity") or "month"
    week_start = int(get_lang(ctx.env).week_start)
    periods = len(bucket_starts(date_from, date_to, granularity, week_start))
    if periods > MAX_PERIODS:
        raise ToolInputError(
            f"{periods} {granularity} periods from {date_from} to {date_to}: at most {MAX_PERIODS}; "
            "use a coarser granularity or a shorter range"
        )
    if args.get("journal") is not None:
        accounts = common.resolve_journal(
            ctx.env, args["journal"], types=LIQUIDITY_JOURNALS
        ).default_account_id
    else:
        # Archived accounts included: a closed bank account's entries are still in the ledger.
        Account = ctx.env["account.account"].with_context(active_test=False)
        accounts = Account.search(
            [*Account._check_company_domain(current), ("account_type", "=", "asset_cash")]
        )
    if not accounts:
        raise ToolInputError(f"{current.name} has no bank or cash account")
    Line = ctx.env["account.move.line"]
    base = [("account_id", "in", accounts.ids)]
    # The opening is every posted item up to the day before the range.
    [(opening,)] = Line._read_group(
        [*gl_domain(ctx, date_from=None, date_to=date_from - timedelta(days=1)), *base], [], ["balance:sum"]
    )
    movements = {
        start: (debit, credit)
        for start, debit, credit in Line._read_group(
            [*gl_domain(ctx, date_from=date_from, date_to=date_to), *base],
            [f"date:{granularity}"],
            ["debit:sum", "credit:sum"],
        )
    }
    rows = cash_flow_rows(
        opening or 0.0,
        movements,
        date_from,
        date_to,
        granularity,
        week_start=week_start,
        digits=currency.decimal_places,
    )
    return {
        "company": current.name,
        **common.currency_info(currency),
        "accounts": accounts.mapped("code"),
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "granularity": granularity,
        "opening": rows[0]["opening"],
        "inflows": common.money(currency, sum(row["inflows"] for row in rows)),
        "outflows": common.money(currency, sum(row["outflows"] for row in rows)),
        "closing": rows[-1]["closing"],
        "periods": rows,
    }


@tool(
    "finance.get_bank_balance",
    display_name="GetBankBalance",
    description="For each bank and cash journal of the conversation's company (or one of them): the "
    "general ledger balance of its account as of a date, the last bank statement's ending balance and "
    "date, and the count and amount of statement lines not reconciled yet. Amounts in the journal's "
    "currency; the ledger balance also in the company currency when they differ. An archived journal "
    "is listed (archived: true) while it still has a balance or unreconciled lines as of the date.",
    input_schema=toolkit.object_schema(
        {
            "journal": common.JOURNAL,
            "date": {**common.DATE, "description": "As of this day, included (YYYY-MM-DD); default today."},
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_bank_balance(ctx, args):
    current = common.company(ctx)
    as_of = common.date_range({"date_to": args.get("date")}, ctx)[1]
    journals = _liquidity_journals(ctx, args.get("journal"))
    accounts = journals.default_account_id
    gl = {
        account: (balance, amount_currency)
        for account, balance, amount_currency in ctx.env["account.move.line"]._read_group(
            [*gl_domain(ctx, date_from=None, date_to=as_of), ("account_id", "in", accounts.ids)],
            ["account_id"],
            ["balance:sum", "amount_currency:sum"],
        )
    }
    unreconciled = {
        journal: (count, amount)
        for journal, count, amount in ctx.env["account.bank.statement.line"]._read_group(
            [
                ("journal_id", "in", journals.ids),
                ("company_id", "=", current.id),
                ("is_reconciled", "=", False),
                ("move_id.state", "=", "posted"),
                ("date", "<=", as_of),
            ],
            ["journal_id"],
            ["__count", "amount:sum"],
        )
    }
    Statement = ctx.env["account.bank.statement"]
    result = []
    total = 0.0
    for journal in journals:
        currency = journal.currency_id or current.currency_id
        balance, amount_currency = gl.get(journal.default_account_id, (0.0, 0.0))
        count, amount = unreconciled.get(journal, (0, 0.0))
        if (
            not journal.active
            and args.get("journal") is None
            and current.currency_id.is_zero(balance)
            and currency.is_zero(amount_currency)
            and not count
        ):
            continue  # an archived journal with nothing left as of the date: not worth a row
        total += balance
        statement = Statement.search(
            [("journal_id", "=", journal.id), ("date", "<=", as_of)], order="date desc, id desc", limit=1
        )
        entry = {
            "journal": journal.code,
            "name": journal.name,
            "type": journal.type,
            "account": journal.default_account_id.code,
            "currency": currency.name,
            "gl_balance": common.money(
                currency, balance if currency == current.currency_id else amount_currency
            ),
            "last_statement": {
                "name": statement.name,
                "date": statement.date.isoformat(),
                "ending_balance": common.money(currency, statement.balance_end_real),
            }
            if statement
            else None,
            "unreconciled": {"count": count, "amount": common.money(currency, amount)},
        }
        if currency != current.currency_id:
            entry["gl_balance_company_currency"] = common.money(current.currency_id, balance)
        if not journal.active:
            entry["archived"] = True
        result.append(entry)
    return {
        "company": current.name,
        "date": as_of.isoformat(),
        "company_currency": current.currency_id.name,
        "total_gl_balance_company_currency": common.money(current.currency_id, total),
        "journals": result,
    }


def _amount_domain(args):
    """Absolute amount bounds, in either direction: 'above 1000' means received or paid."""
    low, high = args.get("amount_min"), args.get("amount_max")
    if low is not None and high is not None and low > high:
        raise ToolInputError(f"amount_min {low} is above amount_max {high}")
    incoming, outgoing = Domain("amount", ">", 0), Domain("amount", "<", 0)
    if low is not None:
        incoming &= Domain("amount", ">=", low)
        outgoing &= Domain("amount", "<=", -low)
    if high is not None:
        incoming &= Domain("amount", "<=", high)
        outgoing &= Domain("amount", ">=", -high)
    direction = args.get("direction") or "any"
    if direction == "in":
        return incoming
    if direction == "out":
        return outgoing
    return incoming | outgoing if low is not None or high is not None else Domain.TRUE


@tool(
    "finance.get_bank_transactions",
    display_name="GetBankTransactions",
    description="Bank statement lines (transactions) of the conversation's company, newest first, "
    "filtered by journal, date, amount range (absolute amounts, with direction in = money received, "
    "out = money paid), partner, label text and reconciled or not; paginated with limit and offset. "
    "Returns the total count and inflow / outflow totals of every matching line, per currency.",
    input_schema=toolkit.object_schema(
        {
            "journal": common.JOURNAL,
            "date_from": common.DATE,
            "date_to": common.DATE,
            "amount_min": {"type": "number", "minimum": 0},
            "amount_max": {"type": "number", "minimum": 0},
            "direction": {"enum": ["in", "out", "any"], "default": "any"},
            "partner": common.PARTNER,
            "label": {"type": "string", "description": "Text the label, reference or counterpart contains."},
            "reconciled": {"type": "boolean", "description": "Omit for both."},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": TRANSACTIONS_MAX_ROWS,
                "default": TRANSACTIONS_DEFAULT_ROWS,
            },
            "offset": {"type": "integer", "minimum": 0, "default": 0},
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_bank_transactions(ctx, args):
    current = common.company(ctx)
    date_from, date_to = common.date_range(args, ctx)
    domain = Domain(
        [("company_id", "=", current.id), ("move_id.state", "=", "posted"), ("date", "<=", date_to)]
    ) & _amount_domain(args)
    if date_from:
        domain &= Domain("date", ">=", date_from)
    domain, _echo, _records = apply_filters(
        ctx.env, args, (common.JOURNAL_FILTER, common.PARTNER_FILTER), domain
    )
    if args.get("label"):
        text = args["label"]
        domain &= Domain.OR(
            [[("payment_ref", "ilike", text)], [("partner_name", "ilike", text)], [("ref", "ilike", text)]]
        )
    if args.get("reconciled") is not None:
        domain &= Domain("is_reconciled", "=", args["reconciled"])
    Line = ctx.env["account.bank.statement.line"]
    rows = common.limit(args, TRANSACTIONS_DEFAULT_ROWS, TRANSACTIONS_MAX_ROWS)
    offset = int(args.get("offset") or 0)
    lines = Line.search(domain, limit=rows, offset=offset)
    count = Line.search_count(domain)
    # Inflows and outflows are two grouped sums (per currency: journals may differ).
    totals = {}
    for key, sign in (("inflows", Domain("amount", ">", 0)), ("outflows", Domain("amount", "<", 0))):
        for currency, number, amount in Line._read_group(
            domain & sign, ["currency_id"], ["__count", "amount:sum"]
        ):
            entry = totals.setdefault(
                currency, {"currency": currency.name, "count": 0, "inflows": 0.0, "outflows": 0.0}
            )
            entry["count"] += number
            entry[key] = common.money(currency, abs(amount))
    return {
        "company": current.name,
        "count": count,
        "offset": offset,
        "totals": list(totals.values()),
        "lines": [
            {
                "id": line.id,
                "date": line.date.isoformat(),
                "journal": line.journal_id.code,
                "label": line.payment_ref or "",
                "partner": line.partner_id.display_name or line.partner_name or None,
                "amount": common.money(line.currency_id, line.amount),
                "currency": line.currency_id.name,
                "reconciled": line.is_reconciled,
                "statement": line.statement_id.name or None,
            }
            for line in lines
        ],
        "truncated": offset + len(lines) < count,
    }
