from datetime import timedelta

from . import common

DEFAULT_DAYS = 30
MAX_DAYS = 3660

FILTERS = (common.product_filter("id"), common.category_filter("categ_id"))


@common.inventory_tool(
    "warehouse.get_stock_forecast",
    display_name="GetStockForecast",
    description="Forecast per product over a horizon, as Odoo's Forecasted quantity computes it: on hand "
    "now, plus incoming, minus outgoing moves (confirmed, waiting or ready, not drafts) scheduled up to "
    "N days from now, in the warehouses of the session's company (or one warehouse). Quantities are in "
    "the product's unit of measure. Filters: warehouse, product, category, shortages only (forecast "
    "below zero). Returns the N products with the lowest forecast first (shortages first), a "
    "truncation flag and counts; products with nothing on hand and nothing planned are left out.",
    properties={
        "days": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_DAYS,
            "default": DEFAULT_DAYS,
            "description": f"Horizon in days from now (default {DEFAULT_DAYS}; 0 = moves already due).",
        },
        "warehouse": common.WAREHOUSE,
        "product": common.PRODUCT,
        "category": common.CATEGORY,
        "shortages_only": {"type": "boolean", "default": False},
    },
)
def get_stock_forecast(ctx, args):
    env = ctx.env
    company = common.session_company(env, "name")
    limit = common.limit(args)
    days = args.get("days", DEFAULT_DAYS)
    until = env.cr.now() + timedelta(days=days)
    filters = {"days": days}
    # Odoo's forecast (the product's virtual_available at to_date, see common), for all products at
    # once, in the named warehouses only.
    candidates, _warehouses, locations = common.stock_scope(env, args, FILTERS, filters)
    quantities = common.on_hand(env, locations, candidates)
    incoming, outgoing = common.planned(env, locations, candidates, until)
    rnd = common.quantity_rounder(env)
    lines = []
    for product_id in quantities.keys() | incoming.keys() | outgoing.keys():
        # Rounded as Odoo rounds each figure, the forecast from the rounded ones.
        qty = rnd(quantities.get(product_id, 0.0))
        qty_in, qty_out = rnd(incoming.get(product_id, 0.0)), rnd(outgoing.get(product_id, 0.0))
        if not (qty or qty_in or qty_out):
            continue
        forecast = rnd(qty + qty_in - qty_out)
        if args.get("shortages_only") and forecast >= 0:
            continue
        lines.append((forecast, product_id, qty, qty_in, qty_out))
    lines.sort()
    if args.get("shortages_only"):
        filters["shortages_only"] = True
    # Names for the rows shown only.
    top = common.fetch_units(env["product.product"].browse([line[1] for line in lines[:limit]]))
    names = common.product_names(env, top.ids)
    rows = [
        {
            "product": names[product.id],
            "uom": product.uom_id.name,
            "on_hand": qty,
            "incoming": qty_in,
            "outgoing": qty_out,
            "forecast": forecast,
        }
        for product, (forecast, _id, qty, qty_in, qty_out) in zip(top, lines, strict=False)
    ]
    return {
        "company": company.name,
        "filters": filters,
        "until": common.utc(until),
        "rows": rows,
        "truncated": len(lines) > limit,
        "totals": {
            "products": len(lines),
            "shortages": sum(1 for line in lines if line[0] < 0),
        },
    }
