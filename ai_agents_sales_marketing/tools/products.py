"""GetSalesByProduct: what each product and product category sold over a period, with the margin.

Quantities and revenue are those of Odoo's sales analysis (``sale.report``) for confirmed orders:
quantities in the product's unit of measure, untaxed revenue (``price_subtotal``) converted to the
company currency at each order's own rate.

The margin is what the community module ``sale_margin`` shows (it is not a dependency of this
pack): revenue minus cost, the cost being the product's cost (``standard_price``, in the company
currency and the product's unit) times the quantity sold. ``sale_margin`` freezes the cost on each
line when it is sold; here the product's current cost is used, so a cost that changed since moves
the margin of past sales. Products without a cost have a margin equal to their revenue: the result
counts them (``products_without_cost``).
"""

from collections import defaultdict

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Filter, RecordRef, apply_filters, tool, toolkit

from . import common

DEFAULT_DAYS = 90
DEFAULT_ROWS = 20

CATEGORY_REF = RecordRef(
    "product.category", "product category", exact=("complete_name", "name"), list_known=True
)
CATEGORY_FILTER = Filter("category", CATEGORY_REF, "product_id.categ_id", operator="child_of")


@tool(
    "sales.get_sales_by_product",
    display_name="GetSalesByProduct",
    description="Sales per product and per product category of the session's company over a period "
    "(default: the last 90 days), from the confirmed sales orders: quantity sold (in the product's "
    "unit), orders, untaxed revenue, cost (the product's current cost x quantity), margin and margin "
    "%, in the company currency, with totals; products by revenue. Filters: product category (its "
    "subcategories included), sales team, salesperson.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema("Orders confirmed"),
            "category": common.ref("Product category: id, name or full name (All / Saleable)."),
            "team": common.TEAM,
            "salesperson": common.SALESPERSON,
            "limit": common.limit_schema(DEFAULT_ROWS, common.MAX_LIMIT, "products and categories"),
        },
    ),
    requires=common.READ_ORDERS,
)
def get_sales_by_product(ctx, args):
    env = common.tool_env(ctx)
    current = common.period(env, args, default_days=DEFAULT_DAYS)
    domain, filters = common.orders_domain(env, args, ["sale"])
    domain &= common.datetime_domain("date_order", current)
    line_domain, category_echo, _records = apply_filters(
        env,
        args,
        (CATEGORY_FILTER,),
        Domain("display_type", "=", False) & Domain("product_id", "!=", False),
    )
    filters.update(category_echo)
    limit = toolkit.row_limit(args, DEFAULT_ROWS, common.MAX_LIMIT)
    currency = common.currency(env)
    rows = _per_product(env, line_domain & Domain("order_id", "in", env["sale.order"]._search(domain)))
    # The grand total row (no product) counts the orders once each.
    orders_count = next((row[2] for row in rows if row[0] is None), 0)
    rows = [row for row in rows if row[0] is not None]

    products = env["product.product"].with_company(env.company).browse(row[0] for row in rows)
    products.fetch(["standard_price", "categ_id", "uom_id", "display_name"])
    per_category = defaultdict(lambda: defaultdict(float))
    product_rows, totals, without_cost = [], defaultdict(float), 0
    for product, (_id, quantity, orders, revenue) in zip(products, rows, strict=True):
        cost = product.standard_price * quantity
        without_cost += not product.standard_price
        for sums in (per_category[product.categ_id], totals):
            sums["revenue"] += revenue
            sums["cost"] += cost
            sums["products"] += 1
        product_rows.append(
            {
                "product": product.display_name,
                "product_id": product.id,
                "category": common.name(product.categ_id),
                "quantity": round(quantity, 3) + 0.0,
                "unit": product.uom_id.name,
                "orders": orders,
                **_money(currency, revenue, cost),
            }
        )
    categories = sorted(per_category, key=lambda c: (-per_category[c]["revenue"], c.id or 0))
    return {
        "company": env.company.name,
        "currency": currency.name,
        "period": common.period_info(current),
        "filters": filters,
        "amounts": "untaxed revenue of confirmed orders in the company currency (each order at its own "
        "rate); cost: the product's current cost x quantity; margin: revenue - cost",
        "totals": {
            "products": int(totals["products"]),
            "orders": orders_count,
            **_money(currency, totals["revenue"], totals["cost"]),
            "products_without_cost": without_cost,
        },
        "products": product_rows[:limit],
        "categories": [
            {
                "category": common.name(category, "No category"),
                "products": int(per_category[category]["products"]),
                **_money(currency, per_category[category]["revenue"], per_category[category]["cost"]),
            }
            for category in categories[:limit]
        ],
        "truncated": len(product_rows) > limit or len(categories) > limit,
    }


def _money(currency, revenue, cost):
    return {
        "revenue": common.money(currency, revenue),
        "cost": common.money(currency, cost),
        "margin": common.money(currency, revenue - cost),
        "margin_pct": common.pct(revenue - cost, revenue),
    }


def _per_product(env, line_domain):
    """[(product id, quantity in the product's unit, orders, untaxed revenue in the company
    currency)] of the lines of ``line_domain`` the user may read, by revenue, and the row of all
    products (product id None)."""
    lines = env["sale.order.line"]._search(line_domain)
    env["sale.order.line"].flush_model(
        ["order_id", "product_id", "product_uom_id", "product_uom_qty", "price_subtotal"]
    )
    env["sale.order"].flush_model(["currency_rate"])
    return env.execute_query(
        SQL(
            """
            SELECT l.product_id,
                   SUM(l.product_uom_qty * line_unit.factor / product_unit.factor),
                   COUNT(DISTINCT l.order_id),
                   SUM(%(revenue)s)
              FROM sale_order_line l
              JOIN sale_order o ON o.id = l.order_id
              JOIN product_product p ON p.id = l.product_id
              JOIN product_template t ON t.id = p.product_tmpl_id
              JOIN uom_uom line_unit ON line_unit.id = l.product_uom_id
              JOIN uom_uom product_unit ON product_unit.id = t.uom_id
             WHERE l.id IN %(lines)s
             GROUP BY GROUPING SETS ((l.product_id), ())
             ORDER BY 4 DESC NULLS LAST, 1
            """,
            revenue=common.in_company_currency(SQL("l.price_subtotal"), SQL("o.currency_rate")),
            lines=lines.subselect(),
        )
    )
