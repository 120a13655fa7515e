from collections import defaultdict
from datetime import timedelta

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import apply_filters

from . import common

DEFAULT_DAYS = 90

QUANT_FILTERS = (common.warehouse_filter("location_id.warehouse_id"), common.category_filter())


@common.inventory_tool(
    "warehouse.get_slow_moving_stock",
    display_name="GetSlowMovingStock",
    description="Products of the session's company with stock on hand and no done outgoing move (a "
    "delivery to a customer or a consumption by production) in the last N days, with the quantity on "
    "hand, its value at cost and the date of the last outgoing move. Value at cost = quantity on hand x "
    "the product's cost (standard price) in the company's currency; stock valuation layers are not "
    "used. Returns the top N products by value, a truncation flag and totals.",
    properties={
        "days": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_DAYS,
            "description": f"No outgoing move for this many days (default {DEFAULT_DAYS}).",
        },
        "warehouse": {
            **common.WAREHOUSE,
            "description": "Only stock in this warehouse and moves out of it (id, code or name).",
        },
        "category": common.CATEGORY,
    },
)
def get_slow_moving_stock(ctx, args):
    env = ctx.env
    company = env.company
    days = args.get("days") or DEFAULT_DAYS
    limit = common.limit(args)
    since = env.cr.now() - timedelta(days=days)
    filters = {"days": days}

    quants = Domain("company_id", "=", company.id) & Domain("location_id.usage", "=", "internal")
    outgoing = (
        Domain("state", "=", "done")
        & Domain("company_id", "=", company.id)
        & Domain("location_id.usage", "=", "internal")
        & Domain("location_dest_id.usage", "in", common.OUTGOING_USAGES)
    )
    quants, echo, records = apply_filters(env, args, QUANT_FILTERS, quants)
    filters.update(echo)
    if "warehouse" in records:
        outgoing &= Domain("location_id.warehouse_id", "=", records["warehouse"].id)
    # One query: the quants of products without a recent outgoing move. The moves are searched with
    # the user's rules; "not any!" only skips the product rules for a list of products to leave out.
    recent = env["stock.move"]._search(outgoing & Domain("date", ">=", since))
    slow = quants & Domain(
        "product_id", "not any!", recent.subselect(SQL.identifier("stock_move", "product_id"))
    )
    groups = env["stock.quant"]._read_group(
        slow, ["product_id"], ["quantity:sum"], having=[("quantity:sum", ">", 0)]
    )
    # Cost and unit of every slow product in one grouped read (one row per id): standard_price is
    # company-dependent, read for env.company, the session's company. Reading it record by record
    # would check the field's access groups once per product. Archived products may hold stock.
    costs = {
        product.id: (uom, cost)
        for product, uom, cost in env["product.product"]
        .with_context(active_test=False)
        ._read_group(
            Domain("id", "in", [product.id for product, _qty in groups]),
            ["id", "product_tmpl_id.uom_id", "standard_price"],
        )
    }
    # (value, quantity, cost, product, uom) per product, most valuable first. Values are rounded to
    # the currency where shown; the total is the rounded sum.
    currency = company.currency_id
    lines = []
    for product, quantity in groups:
        uom, cost = costs[product.id]
        lines.append((quantity * cost, quantity, cost, product, uom))
    lines.sort(key=lambda line: (-line[0], line[3].id))
    top = lines[:limit]
    # Names for the top rows only: a fresh recordset keeps the prefetch to these products.
    top_products = env["product.product"].browse([line[3].id for line in top])
    last = dict(
        env["stock.move"]._read_group(
            outgoing & Domain("product_id", "in", top_products.ids), ["product_id"], ["date:max"]
        )
    )
    rnd = common.quantity_rounder(env)
    now = env.cr.now()
    rows = []
    for (value, quantity, cost, _product, uom), product in zip(top, top_products, strict=True):
        last_date = last.get(product)
        rows.append(
            {
                "product": product.display_name,
                "on_hand": rnd(quantity),
                "uom": uom.name,
                "unit_cost": cost,
                "value": currency.round(value),
                "last_outgoing": common.utc(last_date),
                "days_since_outgoing": (now - last_date).days if last_date else None,
            }
        )
    quantities = defaultdict(float)
    for _value, quantity, _cost, _product, uom in lines:
        quantities[uom] += quantity
    return {
        "company": company.name,
        "currency": currency.name,
        "filters": filters,
        "since": common.utc(since),
        "rows": rows,
        "truncated": len(lines) > limit,
        "totals": {
            "products": len(lines),
            "value": currency.round(sum(line[0] for line in lines)),
            "on_hand": sorted(
                ({"uom": uom.name, "quantity": rnd(qty)} for uom, qty in quantities.items()),
                key=lambda row: row["uom"],
            ),
        },
    }
