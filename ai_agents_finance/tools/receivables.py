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

PAYMENT_COLUMNS = (
    "name",
    "date",
    "partner_id",
    "journal_id",
    "payment_type",
    "amount",
    "currency_id",
    "amount_company_currency_signed",
    "memo",
)
DIRECTIONS = ("inbound", "outbound")


def paid_documents(env, payment):
    """A subquery to ``LEFT JOIN LATERAL ... ON TRUE`` giving, for the payment whose table alias
    is ``payment``, ``names``: the numbers of the invoices, bills and refunds it pays that the
    user may read, in date order (NULL for none), and ``hidden``: how many it pays that the user
    may not read.

    Odoo's ``reconciled_invoice_ids`` and ``reconciled_bill_ids`` of the payment together (see
    ``account.payment._compute_stat_buttons_from_reconciliation``): the documents whose journal
    items are reconciled (``account.partial.reconcile``) with the payment's receivable or payable
    items, and those of its ``invoice_ids``. Odoo's computation reads each document in full, one
    query each, and names documents the user may not read (its SQL has no record rule); here the
    payment's items come from the ORM's query of the journal items the user may read and each
    document's number from the one of the readable moves (record rules, multi-company included): a
    document of a company not open in the session (a branch's invoice paid from the parent company)
    is counted, never named.
    """
    Line = env["account.move.line"]
    Move = env["account.move"]
    Payment = env["account.payment"]
    # The columns read by name below, as Odoo's computation flushes them.
    Payment.flush_model(["move_id", "invoice_ids"])
    Move.flush_model(["move_type", "date", "name"])
    Line.flush_model(["move_id", "account_id"])
    env["account.partial.reconcile"].flush_model(["debit_move_id", "credit_move_id"])
    lines = Line._search(Domain("account_id.account_type", "in", ("asset_receivable", "liability_payable")))
    lines.add_where(
        SQL("%s = %s", Line._field_to_sql(lines.table, "move_id", lines), SQL.identifier(payment, "move_id"))
    )
    links = Payment._fields["invoice_ids"]
    return SQL(
        """(SELECT ARRAY_AGG(doc.name ORDER BY move.date, move.name, move.id)
                       FILTER (WHERE doc.id IS NOT NULL) AS names,
                   COUNT(*) FILTER (WHERE doc.id IS NULL) AS hidden
              FROM (SELECT counterpart.move_id
                      FROM (%(lines)s) line
                      JOIN account_partial_reconcile part
                        ON line.id IN (part.debit_move_id, part.credit_move_id)
                      JOIN account_move_line counterpart
                        ON counterpart.id IN (part.debit_move_id, part.credit_move_id)
                       AND counterpart.id != line.id
                     UNION
                    SELECT %(document_column)s FROM %(relation)s
                     WHERE %(payment_column)s = %(payment_id)s) found
              JOIN account_move move ON move.id = found.move_id
              LEFT JOIN LATERAL %(readable)s doc ON TRUE
             WHERE move.move_type IN %(types)s)""",
        lines=lines.select(SQL.identifier(lines.table, "id")),
        document_column=SQL.identifier(links.column2),
        relation=SQL.identifier(links.relation),
        payment_column=SQL.identifier(links.column1),
        payment_id=SQL.identifier(payment, "id"),
        readable=toolkit.readable_row(Move, SQL("move.id"), "id", "name"),
        types=tuple(Move.get_invoice_types(include_receipts=True)),
    )


def _unmatched_rows(env, domain, limit):
    """The first ``limit`` payments of ``domain`` the user may read (oldest first), each as a row
    of its id, the count and company-currency sum per direction of :data:`DIRECTIONS` over all
    of them, its :data:`PAYMENT_COLUMNS`, its partner's id and complete name and its journal's id
    and code if the user may read them, and the documents it pays (:func:`paid_documents`), in
    one statement: the totals are window functions over the ORM's query of the payments (record
    rules included), computed before its LIMIT over the ids and the two columns they need (one
    pass where a count and a top 20 make two)."""
    Payment = env["account.payment"]
    query = Payment._search(domain, order="date, id", limit=limit)
    direction = Payment._field_to_sql(query.table, "payment_type", query)
    amount = Payment._field_to_sql(query.table, "amount_company_currency_signed", query)
    totals = []
    for key in DIRECTIONS:
        totals += [
            SQL("COUNT(*) FILTER (WHERE %s = %s) OVER ()", direction, key),
            SQL("SUM(%s) FILTER (WHERE %s = %s) OVER ()", amount, direction, key),
        ]
    return env.execute_query(
        SQL(
            """SELECT %s, %s, rp.id, rp.complete_name, j.id, j.code, docs.names, docs.hidden
                 FROM (%s) t
                 JOIN %s p ON p.id = t.id
                 LEFT JOIN LATERAL %s rp ON TRUE
                 LEFT JOIN LATERAL %s j ON TRUE
                 LEFT JOIN LATERAL %s docs ON TRUE
                ORDER BY p.date, p.id""",
            SQL(", ").join(
                [SQL("t.id"), *(SQL.identifier("t", f"total_{index}") for index in range(len(totals)))]
            ),
            SQL(", ").join(Payment._field_to_sql("p", fname) for fname in PAYMENT_COLUMNS),
            query.select(
                SQL("%s AS id", SQL.identifier(query.table, "id")),
                *(
                    SQL("%s AS %s", total, SQL.identifier(f"total_{index}"))
                    for index, total in enumerate(totals)
                ),
            ),
            SQL.identifier(Payment._table),
            toolkit.readable_row(env["res.partner"], SQL("p.partner_id"), "id", "complete_name"),
            toolkit.readable_row(env["account.journal"], SQL("p.journal_id"), "id", "code"),
            paid_documents(env, "p"),
        )
    )


@tool(
    "finance.get_unmatched_payments",
    display_name="GetUnmatchedPayments",
    description="Payments of the conversation's company registered in Odoo but not yet matched with "
    "a bank statement line (posted payments whose outstanding receipts / payments account line is "
    "not reconciled: Odoo's 'not matched with a bank statement'), oldest first. Each with its "
    "date, days waiting, partner, journal, direction (inbound = received, outbound = paid), amount "
    "in its currency and in the company currency, memo and the invoices or bills it pays (those "
    "the user may not read, e.g. of a branch not open in the session, counted in "
    "pays_not_readable). Totals per direction in the company currency over every matching payment.",
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
    env = ctx.env
    current = toolkit.session_company(env, "name", "currency_id")
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
    domain, echo, _records = apply_filters(env, args, (common.JOURNAL_FILTER, common.PARTNER_FILTER), domain)
    limit = common.limit(args, PAYMENTS_DEFAULT_ROWS, PAYMENTS_MAX_ROWS)
    rows = _unmatched_rows(env, domain, limit)
    totals = {}
    count = 0
    if rows:
        figures = rows[0][1 : 1 + 2 * len(DIRECTIONS)]
        for index, key in enumerate(DIRECTIONS):
            number, amount = figures[2 * index : 2 * index + 2]
            if number:
                totals[key] = {"count": number, "amount": common.money(currency, abs(amount or 0.0))}
                count += number
    columns = 1 + 2 * len(DIRECTIONS)
    payments = [
        (dict(zip(PAYMENT_COLUMNS, row[columns : columns + len(PAYMENT_COLUMNS)], strict=True)), *row[-6:])
        for row in rows
    ]
    currencies = env["res.currency"].browse({values["currency_id"] for values, *_names in payments})
    currencies.fetch(["name", "rounding"])
    result = []
    for values, partner_readable, partner, journal_readable, journal, names, hidden in payments:
        if values["partner_id"] and not partner_readable:
            # Odoo's own read: its access error.
            partner = env["res.partner"].browse(values["partner_id"]).complete_name
        if not journal_readable:
            journal = env["account.journal"].browse(values["journal_id"]).code
        payment_currency = currencies.browse(values["currency_id"])
        result.append(
            {
                "name": values["name"],
                "date": values["date"].isoformat(),
                "days_waiting": (day - values["date"]).days,
                "partner": partner or None,
                "journal": journal,
                "direction": values["payment_type"],
                "amount": common.money(payment_currency, values["amount"]),
                "currency": payment_currency.name,
                "amount_company_currency": common.money(
                    currency, abs(values["amount_company_currency_signed"] or 0.0)
                ),
                "memo": values["memo"] or None,
                "pays": names or [],
                **({"pays_not_readable": hidden} if hidden else {}),
            }
        )
    return {
        "company": current.name,
        "company_currency": currency.name,
        **({"filters": echo} if echo else {}),
        "count": count,
        "totals": totals,
        "payments": result,
        "truncated": count > len(result),
    }
