"""GetTopCustomers: the customers who bought the most over a period, against the period before.

Revenue is the untaxed amount of confirmed sales orders (state "Sales Order"), dated by their order
date (the confirmation date once confirmed), per commercial entity (a company and its contacts
count as one customer). Orders in another currency are converted to the company currency at the
rate stored on each order (``sale.order.currency_rate``: the company's rate on the order date), as
Odoo's sales analysis does.
"""

from collections import defaultdict

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Requires, apply_filters, tool, toolkit

from . import common

DEFAULT_DAYS = 90


@tool(
    "sales.get_top_customers",
    display_name="GetTopCustomers",
    record_keys={"customer_id": "res.partner"},
    description="Top N customers of the session's company by confirmed sales revenue (untaxed, in the "
    "company currency) over a period (default: the last 90 days), each with its order count, share of "
    "the period's revenue, and the change against the previous period of the same length; with the "
    "period's totals. Filters: sales team, salesperson.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema(),
            "team": common.TEAM,
            "salesperson": common.SALESPERSON,
            "limit": common.limit_schema(what="customers"),
        },
    ),
    requires=Requires(read=("sale.order",)),
)
def get_top_customers(ctx, args):
    env = common.tool_env(ctx)
    current = common.period(env, args, default_days=DEFAULT_DAYS)
    previous = common.previous_period(env, current)
    domain, filters = confirmed_orders_domain(env, args)
    limit = toolkit.row_limit(args, common.DEFAULT_LIMIT, common.MAX_LIMIT)
    customers, totals = _top_two_periods(env, domain, current, previous, limit)
    currency = common.currency(env)
    total_now, orders_now, count, total_before = totals
    top = env["res.partner"].browse(row[0] for row in customers[:limit])
    rows = []
    for rank, (customer, (_id, revenue, orders, revenue_before, orders_before)) in enumerate(
        zip(top, customers, strict=False), 1
    ):
        rows.append(
            {
                "rank": rank,
                "customer": customer.display_name,
                "customer_id": customer.id,
                "revenue": common.money(currency, revenue),
                "orders": orders,
                "share_pct": common.pct(revenue, total_now),
                "previous_revenue": common.money(currency, revenue_before),
                "previous_orders": orders_before,
                "change": common.money(currency, revenue - revenue_before),
                "change_pct": common.pct(revenue - revenue_before, revenue_before),
            }
        )
    return {
        "company": env.company.name,
        "currency": currency.name,
        "period": common.period_info(current),
        "previous_period": common.period_info(previous),
        "filters": filters,
        "customers": rows,
        "truncated": count > limit,
        "totals": {
            "revenue": common.money(currency, total_now),
            "orders": orders_now,
            "customers": count,
            "previous_revenue": common.money(currency, total_before),
            "change_pct": common.pct(total_now - total_before, total_before),
        },
    }


def confirmed_orders_domain(env, args):
    """Confirmed orders of the session's company, filtered by team and salesperson."""
    domain = Domain("company_id", "=", env.company.id) & Domain("state", "=", "sale")
    domain, filters, _records = apply_filters(env, args, common.TEAM_AND_SALESPERSON, domain)
    return domain, filters


def _top_two_periods(env, domain, current, previous, limit):
    """The top ``limit`` customers of ``current`` with their figures of both periods, and the totals.

    One pass over the orders of both periods, grouped by commercial entity, each sum and count
    filtered to its period (``FILTER``), the totals as window sums over the groups; the orders are
    the ones ``domain`` selects for the user (``_search``: access rules included). A grouped read
    per period would read the table twice.

    Returns:
        ([(customer id, revenue, orders, previous revenue, previous orders)], (revenue, orders,
        customers, previous revenue)), amounts in the company currency.
    """
    Order = env["sale.order"]
    query = Order._search(
        domain & Domain("date_order", ">=", previous.start) & Domain("date_order", "<", current.end)
    )
    partner = query.make_alias(Order._table, "aia_customer")
    query.add_join(
        "JOIN",
        partner,
        "res_partner",
        SQL("%s = %s", Order._field_to_sql(Order._table, "partner_id", query), SQL.identifier(partner, "id")),
    )
    customer = env["res.partner"]._field_to_sql(partner, "commercial_partner_id", query)
    # Orders in another currency at their own rate (company currency per unit: 1 / currency_rate).
    amount = SQL(
        "%s / COALESCE(NULLIF(%s, 0), 1)",
        Order._field_to_sql(Order._table, "amount_untaxed", query),
        Order._field_to_sql(Order._table, "currency_rate", query),
    )
    now = SQL("%s >= %s", Order._field_to_sql(Order._table, "date_order", query), current.start)
    query.groupby = customer
    query.order = SQL("2 DESC NULLS LAST, 1")
    query.limit = limit
    rows = env.execute_query(
        query.select(
            customer,
            SQL("SUM(%s) FILTER (WHERE %s)", amount, now),
            SQL("COUNT(*) FILTER (WHERE %s)", now),
            SQL("COALESCE(SUM(%s) FILTER (WHERE NOT %s), 0)", amount, now),
            SQL("COUNT(*) FILTER (WHERE NOT %s)", now),
            # Totals over every customer, before the limit.
            SQL("SUM(SUM(%s) FILTER (WHERE %s)) OVER ()", amount, now),
            SQL("SUM(COUNT(*) FILTER (WHERE %s)) OVER ()", now),
            SQL("COUNT(SUM(%s) FILTER (WHERE %s)) OVER ()", amount, now),
            SQL("SUM(SUM(%s) FILTER (WHERE NOT %s)) OVER ()", amount, now),
        )
    )
    if not rows:
        return [], (0.0, 0, 0, 0.0)
    # Customers who bought only in the previous period sort last, with no revenue: not top ones.
    customers = [row[:5] for row in rows if row[1] is not None]
    revenue, orders, count, before = rows[0][5:]
    return customers, (revenue or 0.0, int(orders or 0), count, before or 0.0)


def revenue_by_customer(env, domain):
    """{commercial partner id: (revenue in the company currency, orders)} of the orders in ``domain``.

    One grouped read per customer (the order's commercial entity, joined in SQL) and order rate:
    orders in the company currency (rate 1) make one group per customer, and an order in another
    currency is converted exactly at its own rate (the sum of a group divided by the group's rate).
    """
    groups = env["sale.order"]._read_group(
        domain,
        ["partner_id.commercial_partner_id", "currency_rate"],
        ["amount_untaxed:sum", "__count"],
        # Any order by an aggregate: the default (the partners' names) would sort on a join.
        order="__count desc",
    )
    totals = defaultdict(lambda: [0.0, 0])
    for customer, rate, amount, count in groups:
        total = totals[customer.id]
        total[0] += amount / (rate or 1.0)
        total[1] += count
    return {customer_id: tuple(total) for customer_id, total in totals.items()}
