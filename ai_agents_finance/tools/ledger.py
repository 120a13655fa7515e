"""GetGLBalance and ListGLAccounts: the general ledger and the chart of accounts."""

from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import apply_filters, tool, toolkit

from . import common

GL_DEFAULT_ROWS = 50
GL_MAX_ROWS = 200
ACCOUNTS_DEFAULT_ROWS = 100
ACCOUNTS_MAX_ROWS = 300

_ACCOUNT_TYPES = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Account types, e.g. asset_receivable, asset_cash, asset_current, asset_fixed, "
    "liability_payable, liability_current, equity, income, income_other, expense, "
    "expense_depreciation, expense_direct_cost.",
}
GL_FILTERS = (common.PARTNER_FILTER, common.JOURNAL_FILTER, common.ANALYTIC_FILTER)
_ACCOUNT_CODE = {
    "type": "string",
    "minLength": 1,
    "description": "Only accounts whose code starts with this, e.g. '4' or '1100'.",
}


def _accounts(ctx, code_prefix=None, types=None):
    """Accounts of the session's company's chart matching the filters, archived ones included
    (their entries are still in the ledger).

    Raises:
        ToolInputError: A filter that matches no account (most often a mistyped code).
    """
    Account = ctx.env["account.account"].with_context(active_test=False)
    current = common.company(ctx)
    domain = list(Account._check_company_domain(current))
    if code_prefix:
        domain.append(("code", "=like", common.like_prefix(code_prefix)))
    if types:
        domain.append(("account_type", "in", common.account_types(ctx, types)))
    accounts = Account.search(domain)
    if not accounts:
        if code_prefix:
            raise ToolInputError(
                f"no account code starts with {code_prefix!r} in the chart of accounts of {current.name}"
                + (f" (with type {', '.join(types)})" if types else "")
            )
        raise ToolInputError(
            f"no account of type {', '.join(types)} in the chart of accounts of {current.name}"
        )
    return accounts


def gl_domain(ctx, *, date_from, date_to, include_draft=False):
    """Journal items of the session's company up to ``date_to`` (from ``date_from`` when set)."""
    domain = [
        ("company_id", "=", common.company(ctx).id),
        ("parent_state", "in", ["posted", "draft"] if include_draft else ["posted"]),
        ("date", "<=", date_to),
    ]
    if date_from:
        domain.append(("date", ">=", date_from))
    return domain


@tool(
    "finance.get_gl_balance",
    display_name="GetGLBalance",
    description="Debit, credit and balance (debit - credit) per general ledger account of the "
    "conversation's company, in the company currency, over a date range (date_from to date_to) or as "
    "of a date (omit date_from: everything up to date_to). Posted entries only unless include_draft. "
    "Filters: account code prefix, account types, partner, journal, analytic account. Returns totals "
    "over every matching account and the first `limit` accounts (by code, or largest balances first "
    "with order='balance'), with truncated=true when some were left out.",
    input_schema=toolkit.object_schema(
        {
            "date_from": {
                **common.DATE,
                "description": "First day (YYYY-MM-DD); omit for a balance as of date_to.",
            },
            "date_to": {**common.DATE, "description": "Last day, included (YYYY-MM-DD); default today."},
            "account_code": _ACCOUNT_CODE,
            "account_types": _ACCOUNT_TYPES,
            "partner": common.PARTNER,
            "journal": common.JOURNAL,
            "analytic_account": {
                "type": ["integer", "string"],
                "description": "Analytic account id, code or name: only journal items whose analytic "
                "distribution includes it (their full amounts, not prorated).",
            },
            "include_draft": {"type": "boolean", "default": False},
            "order": {"enum": ["code", "balance"], "default": "code"},
            "limit": {"type": "integer", "minimum": 1, "maximum": GL_MAX_ROWS, "default": GL_DEFAULT_ROWS},
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_gl_balance(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    date_from, date_to = common.date_range(args, ctx)
    domain = Domain(
        gl_domain(ctx, date_from=date_from, date_to=date_to, include_draft=args.get("include_draft"))
    )
    if args.get("account_code") or args.get("account_types"):
        accounts = _accounts(ctx, args.get("account_code"), args.get("account_types"))
        domain &= Domain("account_id", "in", accounts.ids)
    domain, _echo, _records = apply_filters(ctx.env, args, GL_FILTERS, domain)

    # One GROUP BY in PostgreSQL; Python only orders and rounds the groups (one per account).
    groups = [
        (account, debit, credit, balance)
        for account, debit, credit, balance in ctx.env["account.move.line"]._read_group(
            domain, ["account_id"], ["debit:sum", "credit:sum", "balance:sum"]
        )
        if account  # section and note lines carry no account and no amount
    ]
    if args.get("order") == "balance":
        groups.sort(key=lambda group: (-abs(group[3]), group[0].code or ""))
    else:
        groups.sort(key=lambda group: group[0].code or "")
    rows = common.limit(args, GL_DEFAULT_ROWS, GL_MAX_ROWS)
    return {
        "company": current.name,
        **common.currency_info(currency),
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat(),
        "entries": "posted and draft" if args.get("include_draft") else "posted",
        "totals": {
            "debit": common.money(currency, sum(group[1] for group in groups)),
            "credit": common.money(currency, sum(group[2] for group in groups)),
            "balance": common.money(currency, sum(group[3] for group in groups)),
        },
        "account_count": len(groups),
        "accounts": [
            {
                "code": account.code,
                "name": account.name,
                "type": account.account_type,
                "debit": common.money(currency, debit),
                "credit": common.money(currency, credit),
                "balance": common.money(currency, balance),
            }
            for account, debit, credit, balance in groups[:rows]
        ],
        "truncated": len(groups) > rows,
    }


def _group_path(group):
    names = []
    while group:
        prefix = group.code_prefix_start or ""
        names.append(f"{prefix} {group.name}".strip())
        group = group.parent_id
    return " > ".join(reversed(names))


@tool(
    "finance.list_gl_accounts",
    display_name="ListGLAccounts",
    description="The chart of accounts of the conversation's company: code, name, type, account group "
    "hierarchy and whether the account is reconcilable, ordered by code. Filter by code prefix, "
    "account types or a word of the name. Also counts the accounts per type.",
    input_schema=toolkit.object_schema(
        {
            "account_code": _ACCOUNT_CODE,
            "account_types": _ACCOUNT_TYPES,
            "name": {"type": "string", "description": "Part of the account name."},
            "reconcilable": {"type": "boolean"},
            "include_archived": {"type": "boolean", "default": False},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": ACCOUNTS_MAX_ROWS,
                "default": ACCOUNTS_DEFAULT_ROWS,
            },
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def list_gl_accounts(ctx, args):
    current = common.company(ctx)
    Account = ctx.env["account.account"].with_context(active_test=not args.get("include_archived"))
    domain = list(Account._check_company_domain(current))
    if args.get("account_code"):
        domain.append(("code", "=like", common.like_prefix(args["account_code"])))
    if args.get("account_types"):
        domain.append(("account_type", "in", common.account_types(ctx, args["account_types"])))
    if args.get("name"):
        domain.append(("name", "ilike", args["name"]))
    if args.get("reconcilable") is not None:
        domain.append(("reconcile", "=", args["reconcilable"]))
    rows = common.limit(args, ACCOUNTS_DEFAULT_ROWS, ACCOUNTS_MAX_ROWS)
    accounts = Account.search(domain, limit=rows + 1)
    if not accounts and args.get("account_code"):
        raise ToolInputError(
            f"no account code starts with {args['account_code']!r} in the chart of accounts of {current.name}"
        )
    by_type = Account._read_group(domain, ["account_type"], ["__count"])
    # Account groups are readable by accountants only (not by Invoicing users): without that right
    # the list simply has no hierarchy.
    with_groups = ctx.env["account.group"].has_access("read")
    result = []
    for account in accounts[:rows]:
        entry = {
            "code": account.code,
            "name": account.name,
            "type": account.account_type,
            "reconcilable": account.reconcile,
        }
        if with_groups:
            entry["group"] = _group_path(account.group_id) or None
        if account.currency_id and account.currency_id != current.currency_id:
            entry["currency"] = account.currency_id.name
        if not account.active:
            entry["archived"] = True
        result.append(entry)
    return {
        "company": current.name,
        "count": sum(count for _type, count in by_type),
        "count_by_type": {account_type: count for account_type, count in by_type},
        "accounts": result,
        "truncated": len(accounts) > rows,
    }
