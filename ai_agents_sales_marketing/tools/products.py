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
    record_keys={"product_id": "product.product"},
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
    rows = _per_product(env, line_domain, domain)
    # The grand total row (no product) counts the orders once each.
    orders_count = next((row[2] for row in rows if row[0] is None), 0)
    rows = [row for row in rows if row[0] is not None]

    products = env["product.product"].with_company(env.company).browse(row[0] for row in rows)
    products.fetch(["standard_price", "categ_id", "uom_id", "name", "default_code"])
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


def _per_product(env, line_domain, order_domain):
    """[(product id, quantity in the product's unit, orders, untaxed revenue in the company
    currency)] of the lines of ``line_domain`` of the orders of ``order_domain``, those the user
    may read, by revenue, and the row of all products (product id None): one pass over the
    lines."""
    Line = env["sale.order.line"]
    query = Line._search(line_domain)

    def column(fname):
        return Line._field_to_sql(Line._table, fname, query)

    def join(table, alias, on_column, key="id"):
        name = query.make_alias(Line._table, alias)
        query.add_join("JOIN", name, table, SQL("%s = %s", on_column, SQL.identifier(name, key)))
        return name

    # Columns read through joins of our own: written to the database first.
    env["product.product"].flush_model(["product_tmpl_id"])
    env["product.template"].flush_model(["uom_id"])
    order = common.join_orders(env, query, order_domain, "currency_rate")
    product = join("product_product", "aia_product", column("product_id"))
    template = join("product_template", "aia_template", SQL.identifier(product, "product_tmpl_id"))
    line_unit = join("uom_uom", "aia_line_unit", column("product_uom_id"))
    product_unit = join("uom_uom", "aia_product_unit", SQL.identifier(template, "uom_id"))
    revenue = common.in_company_currency(column("price_subtotal"), SQL.identifier(order, "currency_rate"))
    query.groupby = SQL("GROUPING SETS ((%s), ())", column("product_id"))
    query.order = SQL("4 DESC NULLS LAST, 1")
    return env.execute_query(
        query.select(
            column("product_id"),
            SQL(
                "SUM(%s * %s / %s)",
                column("product_uom_qty"),
                SQL.identifier(line_unit, "factor"),
                SQL.identifier(product_unit, "factor"),
            ),
            SQL("COUNT(DISTINCT %s)", column("order_id")),
            SQL("SUM(%s)", revenue),
        )
    )
