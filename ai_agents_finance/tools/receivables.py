"""GetAgedBalance, GetOverdueInvoices and GetUnmatchedPayments: what customers owe, what we owe
suppliers, and the money registered but not yet seen on a bank statement."""

from datetime import timedelta

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Filter, apply_filters, tool, toolkit

from ..finance_engine import AGING_BUCKETS
from . import common

AGED_DEFAULT_ROWS = 20
AGED_MAX_ROWS = 200
OVERDUE_DEFAULT_ROWS = 20
OVERDUE_MAX_ROWS = 100
OVERDUE_FIELDS = [
    "name",
    "partner_id",
    "ref",
    "invoice_date",
    "invoice_date_due",
    "payment_state",
    "amount_total_signed",
    "amount_residual_signed",
    "amount_residual",
    "currency_id",
    "is_move_sent",
]
PAYMENTS_DEFAULT_ROWS = 20
PAYMENTS_MAX_ROWS = 100

# receivable: what customers owe us (debit balances read positive); payable: what we owe
# suppliers (credit balances read positive).
KINDS = {"receivable": ("asset_receivable", 1), "payable": ("liability_payable", -1)}
INVOICE_TYPES = {"receivable": ("out_invoice", "out_receipt"), "payable": ("in_invoice", "in_receipt")}
NO_PARTNER = "(no partner)"
# An invoice's partner is its customer's or supplier's commercial entity.
INVOICE_PARTNER_FILTER = Filter("partner", common.resolve_partner, "commercial_partner_id")
_KIND = {
    "enum": list(KINDS),
    "default": "receivable",
    "description": "receivable: what customers owe; payable: what is owed to suppliers.",
}


# === AGED BALANCE === #


def _bucket_condition(days, bucket):
    parts = []
    if bucket.low is not None:
        parts.append(SQL("%s >= %s", days, bucket.low))
    if bucket.high is not None:
        parts.append(SQL("%s <= %s", days, bucket.high))
    return SQL(" AND ").join(parts)


def aged_rows(ctx, domain, as_of):
    """``[(partner id or None, [open amount per bucket of AGING_BUCKETS])]`` of the journal items
    of ``domain`` the user may read, as of ``as_of``.

    An item's open amount as of the date is its residual (``amount_residual``, company currency)
    plus what the reconciliations dated after ``as_of`` took from it (``account.partial.reconcile``
    whose ``max_date``, the date Odoo's aged report uses, is later). Its age is the days from its
    due date (``date_maturity``, else its date) to ``as_of``.
    """
    Line = ctx.env["account.move.line"]
    ctx.env["account.partial.reconcile"].flush_model(
        ["debit_move_id", "credit_move_id", "amount", "max_date"]
    )
    query = Line._search(Domain(domain))
    table = query.table
    later = query.make_alias(table, "aia_later")
    query.add_join(
        "LEFT JOIN",
        later,
        SQL(
            """(SELECT line_id, SUM(amount) AS amount FROM (
                   SELECT debit_move_id AS line_id, amount
                     FROM account_partial_reconcile WHERE max_date > %(day)s
                    UNION ALL
                   SELECT credit_move_id, -amount
                     FROM account_partial_reconcile WHERE max_date > %(day)s
               ) partials GROUP BY line_id)""",
            day=as_of,
        ),
        SQL("%s = %s", SQL.identifier(later, "line_id"), SQL.identifier(table, "id")),
    )
    residual = Line._field_to_sql(table, "amount_residual", query)
    open_amount = SQL("(%s + COALESCE(%s, 0))", residual, SQL.identifier(later, "amount"))
    due = SQL(
        "COALESCE(%s, %s)",
        Line._field_to_sql(table, "date_maturity", query),
        Line._field_to_sql(table, "date", query),
    )
    days = SQL("(%s - %s)", as_of, due)
    # Fully reconciled items (as of today and as of the date) count for nothing: skip them.
    query.add_where(SQL("(%s != 0 OR %s IS NOT NULL)", residual, SQL.identifier(later, "line_id")))
    partner = Line._field_to_sql(table, "partner_id", query)
    query.groupby = partner
    rows = ctx.env.execute_query(
        query.select(
            partner,
            *(
                SQL("COALESCE(SUM(%s) FILTER (WHERE %s), 0)", open_amount, _bucket_condition(days, bucket))
                for bucket in AGING_BUCKETS
            ),
        )
    )
    return [(partner_id, [float(amount) for amount in amounts]) for partner_id, *amounts in rows]


@tool(
    "finance.get_aged_balance",
    display_name="GetAgedBalance",
    description="Aged receivables (what customers owe) or aged payables (what is owed to suppliers) "
    "of the conversation's company as of a date, per partner, in the buckets of Odoo's aged partner "
    "balance: not due (due on the date or later), 1-30, 31-60, 61-90, 91-120 days past due, older. "
    "Open amounts of posted receivable / payable journal items (invoices, bills, refunds, unapplied "
    "payments: negative), in the company currency, as of the date (payments after it not deducted), "
    "aged by due date (else the entry date). Totals per bucket over every partner, then the "
    "`limit` partners owing (or owed) the most.",
    input_schema=toolkit.object_schema(
        {
            "kind": _KIND,
            "date": {**common.DATE, "description": "As of this day, included (YYYY-MM-DD); default today."},
            "partner": common.PARTNER,
            "limit": toolkit.limit_schema(AGED_DEFAULT_ROWS, AGED_MAX_ROWS, "partners"),
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_aged_balance(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    kind = args.get("kind") or "receivable"
    account_type, sign = KINDS[kind]
    as_of = common.date_range({"date_to": args.get("date")}, ctx)[1]
    domain = Domain(
        [
            ("company_id", "=", current.id),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", account_type),
            ("date", "<=", as_of),
        ]
    )
    domain, echo, _records = apply_filters(ctx.env, args, (common.PARTNER_FILTER,), domain)
    groups = [
        (partner_id, [sign * amount for amount in amounts])
        for partner_id, amounts in aged_rows(ctx, domain, as_of)
        if any(not currency.is_zero(amount) for amount in amounts)
    ]
    groups.sort(key=lambda group: (-sum(group[1]), group[0] or 0))
    rows = common.limit(args, AGED_DEFAULT_ROWS, AGED_MAX_ROWS)
    shown = groups[:rows]
    partners = ctx.env["res.partner"].with_context(active_test=False).browse(pid for pid, _ in shown if pid)

    def figures(amounts):
        return {
            **{
                bucket.key: common.money(currency, amount)
                for bucket, amount in zip(AGING_BUCKETS, amounts, strict=True)
            },
            "total": common.money(currency, sum(amounts)),
        }

    names = {partner.id: partner.display_name for partner in partners}
    return {
        "company": current.name,
        **common.currency_info(currency),
        "kind": kind,
        "date": as_of.isoformat(),
        **({"filters": echo} if echo else {}),
        "buckets": {bucket.key: bucket.label for bucket in AGING_BUCKETS},
        "totals": figures(
            [sum(amounts[index] for _pid, amounts in groups) for index in range(len(AGING_BUCKETS))]
        ),
        "partner_count": len(groups),
        "partners": [
            {
                "partner": names.get(partner_id, NO_PARTNER),
                "partner_id": partner_id or None,
                **figures(amounts),
            }
            for partner_id, amounts in shown
        ],
        "truncated": len(groups) > rows,
    }


# === OVERDUE INVOICES === #


def _last_messages(env, invoices):
    """``{invoice id: date of the last message sent from it}`` (the invoice sent, a reminder
    written to the customer): messages of its chatter, internal notes and system notifications
    left out."""
    comment = env.ref("mail.mt_comment")
    groups = env["mail.message"]._read_group(
        [
            ("model", "=", "account.move"),
            ("res_id", "in", invoices.ids),
            ("subtype_id", "=", comment.id),
            ("message_type", "in", ["comment", "email_outgoing"]),
        ],
        ["res_id"],
        ["date:max"],
    )
    return dict(groups)


def _next_activities(env, invoices):
    """``{invoice id: its next scheduled activity}`` (earliest deadline first, as the chatter
    lists them), in one search rather than each invoice's ``activity_ids``."""
    activities = env["mail.activity"].search(
        [("res_model", "=", "account.move"), ("res_id", "in", invoices.ids)], order="date_deadline, id"
    )
    result = {}
    for activity in activities:
        result.setdefault(activity.res_id, activity)
    return result


@tool(
    "finance.get_overdue_invoices",
    display_name="GetOverdueInvoices",
    description="Overdue customer invoices (or vendor bills with kind=payable) of the conversation's "
    "company today: posted, not paid or partly paid, past their due date. Follow-up status of each: "
    "days overdue, payment state (not_paid, partial), open amount (company currency, and the "
    "invoice's currency when it differs), whether the invoice was sent, the date of the last "
    "message sent from it (a reminder), and its next scheduled activity. Most overdue first (or "
    "largest open amount with order='amount'). Totals over every overdue invoice.",
    input_schema=toolkit.object_schema(
        {
            "kind": _KIND,
            "partner": common.PARTNER,
            "min_days_overdue": {"type": "integer", "minimum": 1, "default": 1},
            "order": {"enum": ["days_overdue", "amount"], "default": "days_overdue"},
            "limit": toolkit.limit_schema(OVERDUE_DEFAULT_ROWS, OVERDUE_MAX_ROWS, "invoices"),
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_overdue_invoices(ctx, args):
    # Only the columns shown, here too: a first read of a field fetches every column of its table.
    current = toolkit.session_company(ctx.env, "name", "currency_id")
    currency = current.currency_id
    currency.fetch(["name", "rounding"])
    kind = args.get("kind") or "receivable"
    sign = KINDS[kind][1]
    day = common.today(ctx)
    min_days = int(args.get("min_days_overdue") or 1)
    domain = Domain(
        [
            ("company_id", "=", current.id),
            ("state", "=", "posted"),
            ("move_type", "in", INVOICE_TYPES[kind]),
            ("payment_state", "in", ["not_paid", "partial"]),
            ("invoice_date_due", "<=", day - timedelta(days=min_days)),
        ]
    )
    domain, echo, _records = apply_filters(ctx.env, args, (INVOICE_PARTNER_FILTER,), domain)
    Move = ctx.env["account.move"]
    [(count, residual)] = Move._read_group(domain, [], ["__count", "amount_residual_signed:sum"])
    if args.get("order") == "amount":
        order = f"amount_residual_signed {'desc' if sign > 0 else 'asc'}, id"
    else:
        order = "invoice_date_due, id"
    rows = common.limit(args, OVERDUE_DEFAULT_ROWS, OVERDUE_MAX_ROWS)
    # Only the columns shown, in the query that finds the invoices.
    invoices = Move.search_fetch(domain, OVERDUE_FIELDS, order=order, limit=rows)
    invoices.partner_id.fetch(["complete_name"])
    # The messages' access rule reads the user's partner.
    ctx.env.user.fetch(["partner_id"])
    last_sent = _last_messages(ctx.env, invoices)
    next_activity = _next_activities(ctx.env, invoices)
    result = []
    for invoice in invoices:
        entry = {
            "number": invoice.name,
            # The stored "Company, Contact" name: what display_name computes, without computing it.
            "partner": invoice.partner_id.complete_name,
            "reference": invoice.ref or None,
            "invoice_date": invoice.invoice_date.isoformat() if invoice.invoice_date else None,
            "due_date": invoice.invoice_date_due.isoformat(),
            "days_overdue": (day - invoice.invoice_date_due).days,
            "payment_state": invoice.payment_state,
            "total": common.money(currency, sign * invoice.amount_total_signed),
            "open_amount": common.money(currency, sign * invoice.amount_residual_signed),
            "sent": invoice.is_move_sent,
            "last_message_sent": last_sent[invoice.id].date().isoformat()
            if invoice.id in last_sent
            else None,
        }
        if invoice.currency_id != currency:
            entry["open_amount_in_invoice_currency"] = {
                "amount": common.money(invoice.currency_id, invoice.amount_residual),
                "currency": invoice.currency_id.name,
            }
        activity = next_activity.get(invoice.id)
        if activity:
            entry["next_activity"] = {
                "type": activity.activity_type_id.name,
                "summary": activity.summary or None,
                "deadline": activity.date_deadline.isoformat(),
                "assigned_to": activity.user_id.name,
            }
        result.append(entry)
    return {
        "company": current.name,
        **common.currency_info(currency),
        "kind": kind,
        "date": day.isoformat(),
        **({"filters": echo} if echo else {}),
        "count": count,
        "total_open_amount": common.money(currency, sign * (residual or 0.0)),
        "invoices": result,
        "truncated": count > len(result),
    }


# === PAYMENTS NOT ON A STATEMENT === #


@tool(
    "finance.get_unmatched_payments",
    display_name="GetUnmatchedPayments",
    description="Payments of the conversation's company registered in Odoo but not yet matched with "
    "a bank statement line (posted payments whose outstanding receipts / payments account line is "
    "not reconciled: Odoo's 'not matched with a bank statement'), oldest first. Each with its "
    "date, days waiting, partner, journal, direction (inbound = received, outbound = paid), amount "
    "in its currency and in the company currency, memo and the invoices or bills it pays. Totals "
    "per direction in the company currency over every matching payment.",
    input_schema=toolkit.object_schema(
        {
            "direction": {"enum": ["inbound", "outbound", "any"], "default": "any"},
            "journal": common.JOURNAL,
            "partner": common.PARTNER,
            "date_to": {**common.DATE, "description": "Only payments dated up to this day."},
            "limit": toolkit.limit_schema(PAYMENTS_DEFAULT_ROWS, PAYMENTS_MAX_ROWS, "payments"),
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_unmatched_payments(ctx, args):
    current = toolkit.session_company(ctx.env, "name", "currency_id")
    currency = current.currency_id
    currency.fetch(["name", "rounding"])
    day = common.today(ctx)
    domain = Domain(
        [
            ("company_id", "=", current.id),
            ("state", "in", ["in_process", "paid"]),
            ("is_matched", "=", False),
        ]
    )
    if args.get("direction") in ("inbound", "outbound"):
        domain &= Domain("payment_type", "=", args["direction"])
    if args.get("date_to"):
        domain &= Domain("date", "<=", common.date_range(args, ctx)[1])
    domain, echo, _records = apply_filters(
        ctx.env, args, (common.JOURNAL_FILTER, common.PARTNER_FILTER), domain
    )
    Payment = ctx.env["account.payment"]
    totals = {
        direction: {"count": number, "amount": common.money(currency, abs(amount or 0.0))}
        for direction, number, amount in Payment._read_group(
            domain, ["payment_type"], ["__count", "amount_company_currency_signed:sum"]
        )
    }
    count = sum(entry["count"] for entry in totals.values())
    rows = common.limit(args, PAYMENTS_DEFAULT_ROWS, PAYMENTS_MAX_ROWS)
    payments = Payment.search(domain, order="date, id", limit=rows)
    payments.partner_id.fetch(["complete_name"])
    result = []
    for payment in payments:
        documents = payment.reconciled_invoice_ids | payment.reconciled_bill_ids
        entry = {
            "name": payment.name,
            "date": payment.date.isoformat(),
            "days_waiting": (day - payment.date).days,
            "partner": payment.partner_id.complete_name or None,
            "journal": payment.journal_id.code,
            "direction": payment.payment_type,
            "amount": common.money(payment.currency_id, payment.amount),
            "currency": payment.currency_id.name,
            "amount_company_currency": common.money(currency, abs(payment.amount_company_currency_signed)),
            "memo": payment.memo or None,
            "pays": documents.mapped("name"),
        }
        result.append(entry)
    return {
        "company": current.name,
        "company_currency": currency.name,
        **({"filters": echo} if echo else {}),
        "count": count,
        "totals": totals,
        "payments": result,
        "truncated": count > len(result),
    }
