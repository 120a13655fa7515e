"""GetQuotationsPipeline: the open quotations (draft and sent), what they are worth, and which
expire soon or have expired.

A quotation expires on its expiration date (``sale.order.validity_date``): it is expired the day
after, as Odoo's ``is_expired`` says (expiration before today); "today" is the user's. Amounts are
the orders' untaxed and total amounts converted to the company currency at each order's own rate,
as Odoo's sales analysis (``sale.report``) converts them.
"""

import datetime as dt

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import tool, toolkit

from . import common

OPEN_STATES = ("draft", "sent")
DEFAULT_EXPIRING_DAYS = 7
MAX_EXPIRING_DAYS = 365
BUCKETS = ("expired", "expiring", "valid_later", "no_expiration")


@tool(
    "sales.get_quotations_pipeline",
    display_name="GetQuotationsPipeline",
    record_keys={"quotation_id": "sale.order"},
    description="Open quotations of the session's company (status Quotation or Quotation Sent): how many "
    "and their untaxed and total amounts in the company currency, per status and by expiration "
    "(expired: expiration date before today; expiring: within the next N days, default 7; valid "
    "later; no expiration date), with the quotations expiring soonest and the most recently expired "
    "ones. Filters: sales team, salesperson.",
    input_schema=toolkit.object_schema(
        {
            "team": common.TEAM,
            "salesperson": common.SALESPERSON,
            "expiring_within_days": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_EXPIRING_DAYS,
                "default": DEFAULT_EXPIRING_DAYS,
                "description": "Quotations whose expiration date is today or within this many days "
                "count as expiring (0: today only).",
            },
            "limit": common.limit_schema(what="quotations listed as expiring and as expired"),
        },
    ),
    requires=common.READ_ORDERS,
)
def get_quotations_pipeline(ctx, args):
    env = common.tool_env(ctx)
    domain, filters = common.orders_domain(env, args, OPEN_STATES)
    days = args.get("expiring_within_days")
    days = DEFAULT_EXPIRING_DAYS if days is None else days
    limit = toolkit.row_limit(args, common.DEFAULT_LIMIT, common.MAX_LIMIT)
    today = common.today(env)
    horizon = today + dt.timedelta(days=days)
    currency = common.currency(env)
    labels = dict(env["sale.order"]._fields["state"]._description_selection(env))

    per_status = {state: _figures() for state in OPEN_STATES}
    per_bucket = {bucket: _figures() for bucket in BUCKETS}
    totals = _figures()
    for state, bucket, count, untaxed, total in _grouped(env, domain, today, horizon):
        for figures in (per_status[state], per_bucket[bucket], totals):
            figures["quotations"] += count
            figures["amount_untaxed"] += untaxed
            figures["amount_total"] += total

    def money(figures):
        return {
            "quotations": figures["quotations"],
            "amount_untaxed": common.money(currency, figures["amount_untaxed"]),
            "amount_total": common.money(currency, figures["amount_total"]),
        }

    Order = env["sale.order"]
    expiring = Order.search(
        domain & Domain("validity_date", ">=", today) & Domain("validity_date", "<=", horizon),
        order="validity_date, amount_total desc, id",
        limit=limit,
    )
    expired = Order.search(
        domain & Domain("validity_date", "<", today),
        order="validity_date desc, amount_total desc, id",
        limit=limit,
    )

    def rows(orders):
        return [
            {
                "quotation": order.name,
                "quotation_id": order.id,
                "customer": order.partner_id.display_name,
                "salesperson": common.name(order.user_id, "Unassigned"),
                "status": labels[order.state],
                "expiration_date": str(order.validity_date),
                "days_left": (order.validity_date - today).days,
                "amount_total": common.money(currency, order.amount_total / (order.currency_rate or 1.0)),
            }
            for order in orders
        ]

    return {
        "company": env.company.name,
        "currency": currency.name,
        "today": str(today),
        "expiring_within_days": days,
        "filters": filters,
        "amounts": "untaxed and total amounts in the company currency, each order at its own rate",
        "totals": money(totals),
        "by_status": [{"status": labels[state], **money(per_status[state])} for state in OPEN_STATES],
        "by_expiration": {bucket: money(per_bucket[bucket]) for bucket in BUCKETS},
        "expiring": rows(expiring),
        "expired": rows(expired),
        "truncated": per_bucket["expiring"]["quotations"] > limit
        or per_bucket["expired"]["quotations"] > limit,
    }


def _figures():
    return {"quotations": 0, "amount_untaxed": 0.0, "amount_total": 0.0}


def _grouped(env, domain, today, horizon):
    """(state, expiration bucket, quotations, untaxed, total) of the quotations of ``domain`` the
    user may read, amounts in the company currency: one pass over the orders."""
    Order = env["sale.order"]
    query = Order._search(domain)

    def column(fname):
        return Order._field_to_sql(Order._table, fname, query)

    validity, rate = column("validity_date"), column("currency_rate")
    bucket = SQL(
        "CASE WHEN %(v)s IS NULL THEN 'no_expiration' WHEN %(v)s < %(today)s THEN 'expired' "
        "WHEN %(v)s <= %(horizon)s THEN 'expiring' ELSE 'valid_later' END",
        v=validity,
        today=today,
        horizon=horizon,
    )
    query.groupby = SQL("1, 2")
    query.order = None
    return env.execute_query(
        query.select(
            column("state"),
            bucket,
            SQL("COUNT(*)"),
            SQL("COALESCE(SUM(%s), 0)", common.in_company_currency(column("amount_untaxed"), rate)),
            SQL("COALESCE(SUM(%s), 0)", common.in_company_currency(column("amount_total"), rate)),
        )
    )
