import math
from collections import defaultdict

from odoo.fields import Domain
from odoo.tools import SQL

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
    company = common.session_company(env, "name", "currency_id", "partner_id")
    currency = company.currency_id
    currency.fetch(["name", "rounding"])  # what the answer reads of it (it names and rounds)
    limit = common.limit(args)
    group_by = args.get("group_by") or "product"
    domain, filters, _records = apply_filters(env, args, QUANT_FILTERS, valued_quants(env))
    by_warehouse = group_by == "warehouse"
    groups, units, categories, lot_valuated = [], {}, {}, set()
    quantities = defaultdict(float)
    for product_id, warehouse_id, quantity, cost, by_lot, categ_id in _valued_groups(
        env, domain, by_warehouse
    ):
        groups.append((product_id, warehouse_id, quantity))
        quantities[product_id] += quantity
        units[product_id] = cost
        categories[product_id] = categ_id
        if by_lot:
            lot_valuated.add(product_id)
    # Products valued per lot: Odoo's own total value (the sum of their lots'), per unit.
    Product = env["product.product"].with_context(active_test=False)
    for product in Product.browse(lot_valuated):
        quantity = quantities[product.id]
        units[product.id] = product.total_value / quantity if quantity else 0.0

    rnd = common.quantity_rounder(env)
    values = defaultdict(float)
    counted = defaultdict(set)
    key_of = {
        "product": lambda product_id, _warehouse_id: product_id,
        "category": lambda product_id, _warehouse_id: categories[product_id],
        "warehouse": lambda _product_id, warehouse_id: warehouse_id,
    }[group_by]
    for product_id, warehouse_id, quantity in groups:
        key = key_of(product_id, warehouse_id)
        values[key] += quantity * units[product_id]
        if rnd(quantity):
            counted[key].add(product_id)
    keys = list(values)
    if group_by == "product":
        keys = [key for key in keys if key in counted[key] or currency.round(values[key])]
    # Most valuable first; ties by id. Names only for the rows shown.
    keys.sort(key=lambda key: (-values[key], key or 0))
    total = math.fsum(values.values())  # exact: independent of the order of the groups
    model = {"product": "product.product", "category": "product.category", "warehouse": "stock.warehouse"}
    shown = env[model[group_by]].with_context(active_test=False).browse([key for key in keys[:limit] if key])
    names = {}
    if group_by == "product":
        # Only the columns the rows show (and the cost method reads), for the rows shown.
        names = common.product_names(env, shown.ids)
        common.fetch_units(shown, ["categ_id", "company_id"])
        shown.categ_id.fetch(["complete_name", "property_cost_method"])
    shown = {record.id: record for record in shown}
    return {
        "company": company.name,
        "currency": currency.name,
        "filters": filters,
        "group_by": group_by,
        "rows": [
            _row(
                group_by,
                shown.get(key),
                names.get(key),
                values[key],
                counted[key],
                quantities,
                units,
                rnd,
                currency,
            )
            for key in keys[:limit]
        ],
        "truncated": len(keys) > limit,
        "totals": {
            "value": currency.round(total),
            "products": len(set().union(*counted.values())) if counted else 0,
        },
    }


def _valued_groups(env, domain, by_warehouse):
    """[(product id, warehouse id or None, quantity, unit cost, valued per lot, category id)]: the
    quants of ``domain`` summed per product (and warehouse), with what Odoo keeps for the
    company as the product's cost (the standard price; the average cost in AVCO, the remaining
    receipts' value per unit in FIFO), in one statement over the ORM's queries of the quants and
    products the user may read (record rules included)."""
    Quant = env["stock.quant"]
    quants = Quant._search(domain)
    product = Quant._field_to_sql(quants.table, "product_id", quants)
    warehouse = (
        Quant._read_group_groupby(quants.table, "location_id.warehouse_id", quants) if by_warehouse else None
    )
    quants.groupby = SQL(", ").join([product, warehouse] if by_warehouse else [product])
    quants.order = None
    Product = env["product.product"].with_context(active_test=False)
    products = Product._search(Domain.TRUE)
    products.order = None

    def column(fname):
        return Product._field_to_sql(products.table, fname, products)

    return env.execute_query(
        SQL(
            "SELECT q.product_id, q.warehouse_id, q.quantity, p.cost, p.lot_valuated, p.categ_id "
            "FROM (%s) q JOIN (%s) p ON p.id = q.product_id",
            quants.select(
                SQL("%s AS product_id", product),
                SQL("%s AS warehouse_id", warehouse or SQL("NULL::int")),
                SQL("SUM(%s) AS quantity", Quant._field_to_sql(quants.table, "quantity", quants)),
            ),
            products.select(
                SQL("%s AS id", column("id")),
                SQL("%s AS cost", column("standard_price")),
                SQL("%s AS lot_valuated", column("lot_valuated")),
                SQL("%s AS categ_id", column("categ_id")),
            ),
        )
    )


def _row(group_by, record, name, value, products, quantities, units, rnd, currency):
    if group_by == "warehouse":
        return {"warehouse": record.name if record else "(transit)", "value": currency.round(value)}
    if group_by == "category":
        return {"category": record.complete_name, "products": len(products), "value": currency.round(value)}
    return {
        "product": name,
        "category": record.categ_id.complete_name,
        "cost_method": record.cost_method,
        "quantity": rnd(quantities[record.id]),
        "uom": record.uom_id.name,
        "unit_value": units[record.id],
        "value": currency.round(value),
    }
