"""GetUpsellOpportunities: what to offer which customer, and which customers order less often.

*Bought together*: over the confirmed orders of the period, for each product B and each product A a
customer buys, ``orders_together`` is the number of orders holding both, and ``confidence`` the share
of the orders holding A that also hold B (association-rule confidence, A -> B). A customer is offered
the saleable products B they never bought (in any confirmed order of the company, any date) with the
best confidence from any product A they did buy, among pairs seen in at least
``min_orders_together`` orders.

*Order frequency drop*: confirmed orders per customer in the period against the period of the same
length before; a customer is listed when they had at least ``min_previous_orders`` orders before and
their count fell by at least ``min_drop_pct`` percent.
"""

from collections import defaultdict

from odoo import fields
from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Requires, tool, toolkit

from . import common
from .customers import confirmed_orders_domain, revenue_by_customer

DEFAULT_DAYS = 180
DEFAULT_CUSTOMERS = 5
MAX_CUSTOMERS = 20
DEFAULT_SUGGESTIONS = 3
MAX_SUGGESTIONS = 10


@tool(
    "sales.get_upsell_opportunities",
    display_name="GetUpsellOpportunities",
    record_keys={"customer_id": "res.partner"},
    description="Upsell and retention leads from the confirmed sales orders of the session's company over "
    "a period (default: the last 180 days). (1) Per customer (one given, or the top customers by "
    "revenue of the period): saleable products often bought together with products the customer buys "
    "but that the customer never bought, with how many orders held both and the confidence. (2) "
    "Customers whose number of orders dropped against the previous period of the same length.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema(),
            "customer": {
                **common.CUSTOMER,
                "description": common.CUSTOMER["description"] + " Default: "
                "the top customers of the period by revenue.",
            },
            "limit": common.limit_schema(DEFAULT_CUSTOMERS, MAX_CUSTOMERS, "customers in each list"),
            "suggestions": common.limit_schema(DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS, "products per customer"),
            "min_orders_together": {
                "type": "integer",
                "minimum": 1,
                "default": 2,
                "description": "Ignore product pairs found together in fewer orders than this.",
            },
            "min_drop_pct": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 100,
                "default": 50,
                "description": "List customers whose order count fell by at least this percentage.",
            },
            "min_previous_orders": {
                "type": "integer",
                "minimum": 1,
                "default": 2,
                "description": "Only customers with at least this many orders in the previous period.",
            },
        },
    ),
    requires=Requires(read=("sale.order", "sale.order.line", "product.product")),
)
def get_upsell_opportunities(ctx, args):
    env = common.tool_env(ctx)
    current = common.period(env, args, default_days=DEFAULT_DAYS)
    previous = common.previous_period(env, current)
    domain, filters = confirmed_orders_domain(env, args)
    limit = toolkit.row_limit(args, DEFAULT_CUSTOMERS, MAX_CUSTOMERS)
    in_period = domain & common.datetime_domain("date_order", current)
    if args.get("customer") is not None:
        customer = common.resolve_customer(env, args["customer"])
        filters["customer"] = customer.display_name
        targets = customer
    else:
        revenue = revenue_by_customer(env, in_period)
        targets = env["res.partner"].browse(
            sorted(filter(None, revenue), key=lambda customer_id: (-revenue[customer_id][0], customer_id))[
                :limit
            ]
        )
    declining, more = _declining(env, domain, current, previous, args, limit)
    return {
        "company": env.company.name,
        "period": common.period_info(current),
        "previous_period": common.period_info(previous),
        "filters": filters,
        "recommendations": _recommendations(env, domain, in_period, targets, args),
        "declining_customers": declining,
        "truncated": more,
    }


def _recommendations(env, domain, in_period, targets, args):
    if not targets:
        return []
    Order = env["sale.order"]
    Line = env["sale.order.line"]
    products_line = Domain("display_type", "=", False) & Domain("is_downpayment", "=", False)
    products_line &= Domain("product_id", "!=", False)
    # Lines of the orders the user may read (access rules of orders and lines both apply).
    period_lines = Line._search(products_line & Domain("order_id", "in", Order._search(in_period)))
    customer_orders = Order._search(domain & Domain("partner_id.commercial_partner_id", "in", targets.ids))
    customer_lines = Line._search(products_line & Domain("order_id", "in", customer_orders))
    saleable = env["product.product"]._search(Domain("sale_ok", "=", True))
    env.flush_all()
    rows = env.execute_query(
        SQL(
            """
            WITH period_lines AS (
                SELECT DISTINCT order_id, product_id FROM sale_order_line WHERE id IN %(period_lines)s
            ), customer_products AS (
                SELECT DISTINCT p.commercial_partner_id AS customer_id, l.product_id
                  FROM sale_order_line l
                  JOIN sale_order o ON o.id = l.order_id
                  JOIN res_partner p ON p.id = o.partner_id
                 WHERE l.id IN %(customer_lines)s
            ), support AS (
                SELECT product_id, COUNT(*) AS orders
                  FROM period_lines
                 WHERE product_id IN (SELECT product_id FROM customer_products)
                 GROUP BY product_id
            ), pairs AS (
                SELECT a.product_id AS bought_id, b.product_id AS suggested_id, COUNT(*) AS together
                  FROM period_lines a
                  JOIN period_lines b ON b.order_id = a.order_id AND b.product_id <> a.product_id
                 WHERE a.product_id IN (SELECT product_id FROM customer_products)
                   AND b.product_id IN %(saleable)s
                 GROUP BY a.product_id, b.product_id
                HAVING COUNT(*) >= %(min_together)s
            ), candidates AS (
                SELECT DISTINCT ON (c.customer_id, pr.suggested_id)
                       c.customer_id, pr.suggested_id, pr.bought_id, pr.together,
                       pr.together::float / s.orders AS confidence
                  FROM customer_products c
                  JOIN pairs pr ON pr.bought_id = c.product_id
                  JOIN support s ON s.product_id = pr.bought_id
                 WHERE NOT EXISTS (
                        SELECT 1 FROM customer_products o
                         WHERE o.customer_id = c.customer_id AND o.product_id = pr.suggested_id)
                 ORDER BY c.customer_id, pr.suggested_id, confidence DESC, pr.together DESC, pr.bought_id
            )
            SELECT customer_id, suggested_id, bought_id, together, confidence
              FROM (SELECT *, ROW_NUMBER() OVER (
                              PARTITION BY customer_id
                              ORDER BY confidence DESC, together DESC, suggested_id) AS position
                      FROM candidates) ranked
             WHERE position <= %(per_customer)s
             ORDER BY customer_id, position
            """,
            period_lines=period_lines.subselect(),
            customer_lines=customer_lines.subselect(),
            saleable=saleable.subselect(),
            min_together=args.get("min_orders_together") or 2,
            per_customer=args.get("suggestions") or DEFAULT_SUGGESTIONS,
        )
    )
    products = env["product.product"].browse({row[1] for row in rows} | {row[2] for row in rows})
    products.fetch(["display_name"])
    suggestions = defaultdict(list)
    for customer_id, suggested_id, bought_id, together, confidence in rows:
        suggestions[customer_id].append(
            {
                "product": products.browse(suggested_id).display_name,
                "product_id": suggested_id,
                "because_they_buy": products.browse(bought_id).display_name,
                "orders_together": together,
                "confidence_pct": round(100.0 * confidence, 1) + 0.0,
            }
        )
    return [
        {
            "customer": customer.display_name,
            "customer_id": customer.id,
            "suggestions": suggestions[customer.id],
        }
        for customer in targets
    ]


def _declining(env, domain, current, previous, args, limit):
    """Customers whose confirmed order count fell from the previous period to this one."""
    now = _orders_by_customer(env, domain & common.datetime_domain("date_order", current))
    before = _orders_by_customer(env, domain & common.datetime_domain("date_order", previous))
    min_previous = args.get("min_previous_orders") or 2
    min_drop = args.get("min_drop_pct") or 50
    rows = []
    for customer_id, (count_before, last_before) in before.items():
        count, last = now.get(customer_id, (0, None))
        drop = 100.0 * (count_before - count) / count_before
        if count_before < min_previous or drop < min_drop:
            continue
        last_order = fields.Datetime.context_timestamp(
            env.user, max(filter(None, (last, last_before)))
        ).date()
        rows.append(
            {
                "customer_id": customer_id,
                "previous_orders": count_before,
                "orders": count,
                "change_pct": round(-drop, 1) + 0.0,
                "last_order": str(last_order),
                "days_since_last_order": (current.date_to - last_order).days,
            }
        )
    rows.sort(key=lambda row: (row["orders"] - row["previous_orders"], row["change_pct"], row["customer_id"]))
    # Names of the rows shown only (a fresh recordset: no display name of every customer).
    customers = env["res.partner"].browse(row["customer_id"] for row in rows[:limit])
    shown = [
        {"customer": customer.display_name, **row} for customer, row in zip(customers, rows, strict=False)
    ]
    return shown, len(rows) > limit


def _orders_by_customer(env, domain):
    """{commercial partner id: (confirmed orders, last order datetime)}."""
    groups = env["sale.order"]._read_group(
        domain, ["partner_id.commercial_partner_id"], ["__count", "date_order:max"], order="__count desc"
    )
    return {customer.id: (count, last) for customer, count, last in groups if customer}
