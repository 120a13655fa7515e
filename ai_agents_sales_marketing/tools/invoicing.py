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
    Order, Line = env["sale.order"], env["sale.order.line"]
    labels = dict(Order._fields["invoice_status"]._description_selection(env))
    # Lines of the orders the user may read (the access rules of orders and lines both apply).
    lines = Line._search(
        Domain("display_type", "=", False)
        & (Domain("product_id", "!=", False) | Domain("is_downpayment", "=", True))
        & Domain("order_id", "in", Order._search(domain))
    )
    Order.flush_model(["invoice_status", "currency_rate"])
    Line.flush_model(
        ["order_id", "price_subtotal", "untaxed_amount_invoiced", "untaxed_amount_to_invoice", "product_id"]
    )
    rate = SQL.identifier("o", "currency_rate")
    ordered = common.in_company_currency(SQL("l.price_subtotal"), rate)
    invoiced = common.in_company_currency(SQL("l.untaxed_amount_invoiced"), rate)
    to_invoice = common.in_company_currency(SQL("l.untaxed_amount_to_invoice"), rate)
    # Ordered amounts of product lines only, as the sales analysis counts them.
    ordered = SQL("CASE WHEN l.product_id IS NOT NULL THEN %s ELSE 0 END", ordered)
    per_status = env.execute_query(
        SQL(
            """
            SELECT o.invoice_status, COUNT(DISTINCT o.id), SUM(%(ordered)s), SUM(%(invoiced)s),
                   SUM(%(to_invoice)s)
              FROM sale_order_line l
              JOIN sale_order o ON o.id = l.order_id
             WHERE l.id IN %(lines)s
             GROUP BY o.invoice_status
            """,
            ordered=ordered,
            invoiced=invoiced,
            to_invoice=to_invoice,
            lines=lines.subselect(),
        )
    )
    top = env.execute_query(
        SQL(
            """
            SELECT l.order_id, SUM(%(ordered)s), SUM(%(invoiced)s), SUM(%(to_invoice)s), COUNT(*) OVER ()
              FROM sale_order_line l
              JOIN sale_order o ON o.id = l.order_id
             WHERE l.id IN %(lines)s
             GROUP BY l.order_id
            HAVING SUM(%(to_invoice)s) > 0
             ORDER BY 4 DESC, 1
             LIMIT %(limit)s
            """,
            ordered=ordered,
            invoiced=invoiced,
            to_invoice=to_invoice,
            lines=lines.subselect(),
            limit=limit,
        )
    )

    def amounts(ordered_amount, invoiced_amount, to_invoice_amount):
        return {
            "amount_untaxed": common.money(currency, ordered_amount),
            "invoiced": common.money(currency, invoiced_amount),
            "to_invoice": common.money(currency, to_invoice_amount),
        }

    def figures(orders, *sums):
        return {"orders": orders, **amounts(*sums)}

    by_status = {status: row for status, *row in per_status}
    totals = [sum(row[index] or 0 for row in by_status.values()) for index in range(4)]
    orders = Order.browse(row[0] for row in top)
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
                **amounts(*row[1:4]),
            }
            for order, row in zip(orders, top, strict=True)
        ],
        "orders_with_amount_to_invoice": top[0][4] if top else 0,
        "truncated": bool(top) and top[0][4] > limit,
    }
