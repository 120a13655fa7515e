"""GetInvoicingStatus: confirmed sales orders, what has been invoiced and what is left to invoice.

The figures are Odoo's own, stored on the order lines and summed as Odoo's sales analysis
(``sale.report``) sums them: untaxed amount ordered (``price_subtotal``), untaxed amount invoiced
(posted customer invoices minus credit notes, ``untaxed_amount_invoiced``) and untaxed amount to
invoice (``untaxed_amount_to_invoice``: ordered quantities, or delivered ones for products invoiced
on delivery, not invoiced yet), each order converted to the company currency at its own rate. The
order's invoice status is Odoo's (``sale.order.invoice_status``). Lines without a product (notes,
sections) count for nothing, as in the sales analysis; down payments count for what they invoiced.
"""

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import tool, toolkit

from . import common

STATUSES = ("to invoice", "upselling", "invoiced", "no")


@tool(
    "sales.get_invoicing_status",
    display_name="GetInvoicingStatus",
    record_keys={"order_id": "sale.order"},
    description="Invoiced versus to invoice, for the confirmed sales orders of the session's company "
    "(all of them, or those ordered in a period): untaxed amount ordered, invoiced (posted invoices "
    "minus credit notes) and still to invoice, in the company currency, in total and per Odoo "
    "invoice status (To Invoice, Upselling Opportunity, Fully Invoiced, Nothing to Invoice), with the "
    "orders that have the most left to invoice. Filters: order dates, sales team, salesperson.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema("Orders confirmed"),
            "team": common.TEAM,
            "salesperson": common.SALESPERSON,
            "limit": common.limit_schema(what="orders with an amount left to invoice"),
        },
    ),
    requires=common.READ_ORDERS,
)
def get_invoicing_status(ctx, args):
    env = common.tool_env(ctx)
    domain, filters = common.orders_domain(env, args, ["sale"])
    current = common.optional_period(env, args)
    if current:
        domain &= common.datetime_domain("date_order", current)
    limit = toolkit.row_limit(args, common.DEFAULT_LIMIT, common.MAX_LIMIT)
    currency = common.currency(env)
    Order = env["sale.order"]
    labels = dict(Order._fields["invoice_status"]._description_selection(env))
    # Lines of the orders the user may read (the access rules of orders and lines both apply).
    line_domain = Domain("display_type", "=", False) & (
        Domain("product_id", "!=", False) | Domain("is_downpayment", "=", True)
    )
    per_status, top = [], []
    for kind, status, *row in _per_status_and_top(env, line_domain, domain, limit):
        (per_status if kind == "status" else top).append((status, *row))

    def amounts(ordered_amount, invoiced_amount, to_invoice_amount):
        return {
            "amount_untaxed": common.money(currency, ordered_amount),
            "invoiced": common.money(currency, invoiced_amount),
            "to_invoice": common.money(currency, to_invoice_amount),
        }

    def figures(orders, *sums):
        return {"orders": orders, **amounts(*sums)}

    by_status = {status: row[1:5] for status, *row in per_status}
    totals = [sum(row[index] or 0 for row in by_status.values()) for index in range(4)]
    orders = Order.browse(row[1] for row in top)
    return {
        "company": env.company.name,
        "currency": currency.name,
        "period": common.period_info(current) if current else "all confirmed orders",
        "filters": filters,
        "amounts": "untaxed, in the company currency (each order at its own rate); invoiced: posted "
        "customer invoices minus credit notes; to invoice: ordered (or delivered, for products "
        "invoiced on delivery) and not invoiced yet",
        "totals": figures(*totals),
        "by_invoice_status": [
            {"invoice_status": labels[status], **figures(*by_status[status])}
            for status in STATUSES
            if status in by_status
        ],
        "orders_to_invoice": [
            {
                "order": order.name,
                "order_id": order.id,
                "customer": order.partner_id.display_name,
                "salesperson": common.name(order.user_id, "Unassigned"),
                "order_date": common.day(env, order.date_order),
                "invoice_status": labels[order.invoice_status],
                **amounts(*row[3:6]),
            }
            for order, row in zip(orders, top, strict=True)
        ],
        "orders_with_amount_to_invoice": top[0][6] if top else 0,
        "truncated": bool(top) and top[0][6] > limit,
    }


def _per_status_and_top(env, line_domain, order_domain, limit):
    """One pass over the lines of ``line_domain`` of the orders of ``order_domain``, those the user
    may read, summed per order (amounts in the company currency), then per invoice status and the
    ``limit`` orders with the most to invoice.

    Returns:
        Rows ("status", invoice status, None, orders, ordered, invoiced, to invoice, None) and
        ("order", invoice status, order id, 1, ordered, invoiced, to invoice, orders with an amount
        to invoice), the orders by amount to invoice.
    """
    Line = env["sale.order.line"]
    query = Line._search(line_domain)

    def column(fname):
        return Line._field_to_sql(Line._table, fname, query)

    order = common.join_orders(env, query, order_domain, "currency_rate", "invoice_status")
    rate = SQL.identifier(order, "currency_rate")
    status = SQL.identifier(order, "invoice_status")
    # Ordered amounts of product lines only, as the sales analysis counts them.
    ordered = SQL(
        "CASE WHEN %s IS NOT NULL THEN %s ELSE 0 END",
        column("product_id"),
        common.in_company_currency(column("price_subtotal"), rate),
    )
    query.groupby = SQL("%s, %s", column("order_id"), status)
    query.order = None
    per_order = query.select(
        SQL("%s AS order_id", column("order_id")),
        SQL("%s AS invoice_status", status),
        SQL("SUM(%s) AS ordered", ordered),
        SQL("SUM(%s) AS invoiced", common.in_company_currency(column("untaxed_amount_invoiced"), rate)),
        SQL("SUM(%s) AS to_invoice", common.in_company_currency(column("untaxed_amount_to_invoice"), rate)),
    )
    return env.execute_query(
        SQL(
            """
            WITH per_order AS MATERIALIZED (%(per_order)s)
            (SELECT 'status', invoice_status, NULL::int, COUNT(*), SUM(ordered), SUM(invoiced),
                    SUM(to_invoice), NULL::bigint
               FROM per_order
              GROUP BY invoice_status)
            UNION ALL
            (SELECT 'order', invoice_status, order_id, 1, ordered, invoiced, to_invoice, COUNT(*) OVER ()
               FROM per_order
              WHERE to_invoice > 0
              ORDER BY to_invoice DESC, order_id
              LIMIT %(limit)s)
            """,
            per_order=per_order,
            limit=limit,
        )
    )
