from collections import defaultdict

from odoo.fields import Domain

from odoo.addons.ai_agents_warehouse.tools import common
from odoo.addons.ai_core.tools import apply_filters

GROUPINGS = ("product", "category", "warehouse")

QUANT_FILTERS = (
    common.product_filter(),
    common.category_filter(),
    common.warehouse_filter("location_id.warehouse_id"),
)


def valued_quants(env):
    """The quants Odoo values for the session's company (stock.quant ``value``): in its internal and
    transit locations, owned by the company or by no one (consignment stock is not the company's)."""
    company = env.company
    return (
        Domain("company_id", "=", company.id)
        & Domain("location_id.usage", "in", ("internal", "transit"))
        & (Domain("owner_id", "=", False) | Domain("owner_id", "=", company.partner_id.id))
    )


@common.inventory_tool(
    "warehouse.get_stock_valuation",
    display_name="GetStockValuation",
    description="Stock valuation of the session's company now, as Odoo's Inventory Valuation computes it "
    "(Odoo 19 stock_account: products' Total Value): the quantity in the company's internal and transit "
    "locations, consignment stock owned by others excluded, times the product's unit value (its cost, "
    "which Odoo keeps at the average cost for AVCO and at the value of the remaining receipts for FIFO; "
    "products valued per lot/serial number take Odoo's lot values). Values are in the company's "
    "currency, named in the result. Rows per product (with its costing method, quantity and unit), per "
    "product category or per warehouse; filters: product, category, warehouse. Returns the top N rows "
    "by value, a truncation flag and totals.",
    properties={
        "group_by": {
            "enum": list(GROUPINGS),
            "default": "product",
            "description": "Rows per product (default), per product category or per warehouse.",
        },
        "product": common.PRODUCT,
        "category": common.CATEGORY,
        "warehouse": common.WAREHOUSE,
    },
)
def get_stock_valuation(ctx, args):
    env = ctx.env
    company = env.company
    currency = company.currency_id
    limit = common.limit(args)
    group_by = args.get("group_by") or "product"
    domain, filters, _records = apply_filters(env, args, QUANT_FILTERS, valued_quants(env))
    groups = env["stock.quant"]._read_group(
        domain, ["product_id", "location_id.warehouse_id"], ["quantity:sum"]
    )
    # Unit value per product, in one grouped read of what Odoo keeps for the company (its cost:
    # the standard price, the average cost in AVCO, the remaining receipts' value per unit in FIFO).
    Product = env["product.product"].with_context(active_test=False)
    details = {
        product.id: (categ, uom, lot_valuated, cost)
        for product, categ, uom, lot_valuated, cost in Product._read_group(
            Domain("id", "in", list({product.id for product, _warehouse, _qty in groups})),
            ["id", "categ_id", "product_tmpl_id.uom_id", "product_tmpl_id.lot_valuated", "standard_price"],
        )
    }
    quantities = defaultdict(float)
    for product, _warehouse, quantity in groups:
        quantities[product.id] += quantity
    # Products valued per lot: Odoo's own total value (the sum of their lots'), per unit.
    units = {pid: detail[3] for pid, detail in details.items()}
    for product in Product.browse([pid for pid, detail in details.items() if detail[2]]):
        quantity = quantities[product.id]
        units[product.id] = product.total_value / quantity if quantity else 0.0

    rnd = common.quantity_rounder(env)
    values = defaultdict(float)
    counted = defaultdict(set)
    for product, warehouse, quantity in groups:
        key = {"product": product, "category": details[product.id][0], "warehouse": warehouse}[group_by]
        values[key] += quantity * units[product.id]
        if rnd(quantity):
            counted[key].add(product.id)
    if group_by == "product":
        keys = [key for key in values if rnd(quantities[key.id]) or currency.round(values[key])]
    else:
        keys = list(values)
    # Most valuable first; ties by id. Names only for the rows shown.
    keys.sort(key=lambda key: (-values[key], key.id))
    total = sum(values.values())
    return {
        "company": company.name,
        "currency": currency.name,
        "filters": filters,
        "group_by": group_by,
        "rows": [
            _row(group_by, key, values[key], counted[key], quantities, units, details, rnd, currency)
            for key in keys[:limit]
        ],
        "truncated": len(keys) > limit,
        "totals": {
            "value": currency.round(total),
            "products": len(set().union(*counted.values())) if counted else 0,
        },
    }


def _row(group_by, key, value, products, quantities, units, details, rnd, currency):
    if group_by == "warehouse":
        return {"warehouse": common.name(key, "(transit)"), "value": currency.round(value)}
    if group_by == "category":
        return {"category": key.complete_name, "products": len(products), "value": currency.round(value)}
    categ, uom, _lot_valuated, _cost = details[key.id]
    return {
        "product": key.display_name,
        "category": categ.complete_name,
        "cost_method": key.cost_method,
        "quantity": rnd(quantities[key.id]),
        "uom": uom.name,
        "unit_value": units[key.id],
        "value": currency.round(value),
    }
