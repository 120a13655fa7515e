import math
from datetime import timedelta

from odoo.fields import Domain

from . import common

DEFAULT_DAYS = 90
MAX_DAYS = 3660
ORDERS = ("days_of_cover", "turnover")

FILTERS = (common.product_filter("id"), common.category_filter("categ_id"))


@common.inventory_tool(
    "warehouse.get_inventory_turnover",
    display_name="GetInventoryTurnover",
    description="Inventory turnover and days of cover per product over the last N days, in the "
    "warehouses of the session's company (or one warehouse). Delivered = done moves out of the "
    "warehouses to customers or to production (returns are not subtracted). Average on hand = "
    "(on hand at the start of the period + on hand now) / 2, both as Odoo computes the quantity on "
    "hand at a date. Turnover = cost of goods delivered / average stock value = delivered / average "
    "on hand (times per period; annualised = x 365 / N). Days of cover = on hand now / average daily "
    "delivered quantity (null when nothing was delivered). Values at the product's current cost "
    "(standard price) in the company's currency. Filters: warehouse, product, category. Returns the "
    "top N products (lowest days of cover first, or lowest turnover first), a truncation flag and "
    "totals for all products.",
    properties={
        "days": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_DAYS,
            "default": DEFAULT_DAYS,
            "description": f"Period: the last N days (default {DEFAULT_DAYS}).",
        },
        "warehouse": common.WAREHOUSE,
        "product": common.PRODUCT,
        "category": common.CATEGORY,
        "order": {
            "enum": list(ORDERS),
            "default": "days_of_cover",
            "description": "days_of_cover: what runs out first; turnover: the slowest movers first.",
        },
    },
)
def get_inventory_turnover(ctx, args):
    env = ctx.env
    company = common.session_company(env, "name", "currency_id")
    currency = company.currency_id
    currency.fetch(["name", "rounding"])  # what the answer reads of it (it names and rounds)
    limit = common.limit(args)
    days = args.get("days") or DEFAULT_DAYS
    order = args.get("order") or "days_of_cover"
    since = env.cr.now() - timedelta(days=days)
    filters = {"days": days}
    candidates, warehouses, locations = common.stock_scope(env, args, FILTERS, filters)

    # On hand now and at the start as Odoo computes them (quants, and the done moves since then
    # rolled back; see common), in the named warehouses only.
    now_qty = common.on_hand(env, locations, candidates)
    # Delivered: done moves from the warehouses' internal locations to customers or production,
    # quantities converted from the move's unit to the product's; in the same scan of the moves.
    moved_in, moved_out, delivered = common.done_since(
        env,
        locations,
        candidates,
        since,
        delivered=Domain("company_id", "=", company.id)
        & Domain("location_id.usage", "=", "internal")
        & Domain("location_id.warehouse_id", "in", warehouses.ids)
        & Domain("location_dest_id.usage", "in", common.OUTGOING_USAGES),
    )

    rnd = common.quantity_rounder(env)
    lines = []
    for product_id in now_qty.keys() | moved_in.keys() | moved_out.keys() | delivered.keys():
        quantity = now_qty.get(product_id, 0.0)
        # Rounded as Odoo rounds its quantity on hand, now and at a date.
        on_hand = rnd(quantity)
        opening = rnd(quantity - moved_in.get(product_id, 0.0) + moved_out.get(product_id, 0.0))
        out = delivered.get(product_id, 0.0)
        if not on_hand and not (out and rnd(out)):
            continue
        lines.append((product_id, on_hand, opening, out))
    # The cost of every product in one grouped read (standard_price is company-dependent: read for
    # the session's company); reading it record by record checks its access once per product.
    costs = dict(
        (product.id, cost)
        for product, cost in env["product.product"]
        .with_context(active_test=False)
        ._read_group(Domain("id", "in", [line[0] for line in lines]), ["id", "standard_price"])
    )

    def figures(line):
        product_id, on_hand, opening, out = line
        average = (opening + on_hand) / 2
        turnover = out / average if rnd(average) > 0 else None
        cover = on_hand / (out / days) if rnd(out) > 0 else None
        return turnover, cover, average

    computed = [(line, *figures(line)) for line in lines]
    if order == "turnover":
        # Slowest first; products with no average stock (nothing to turn) last.
        computed.sort(key=lambda item: (item[1] is None, item[1] or 0.0, item[0][0]))
    else:
        # What runs out first; products without deliveries (no cover to speak of) last.
        computed.sort(key=lambda item: (item[2] is None, item[2] or 0.0, item[0][0]))
    top = computed[:limit]
    shown = common.fetch_units(env["product.product"].browse([item[0][0] for item in top]))
    names = common.product_names(env, shown.ids)
    rows = []
    for product, ((_id, on_hand, opening, out), turnover, cover, average) in zip(shown, top, strict=True):
        cost = costs[product.id]
        rows.append(
            {
                "product": names[product.id],
                "uom": product.uom_id.name,
                "delivered": rnd(out),
                "on_hand_start": rnd(opening),
                "on_hand": rnd(on_hand),
                "average_on_hand": rnd(average),
                "turnover": round(turnover, 2) if turnover is not None else None,
                "annual_turnover": round(turnover * 365 / days, 2) if turnover is not None else None,
                "days_of_cover": round(cover, 1) if cover is not None else None,
                "unit_cost": cost,
                "cost_of_goods_delivered": currency.round(out * cost),
            }
        )
    # Exact float sums: totals do not depend on the order the products come in.
    cogs = math.fsum(line[3] * costs[line[0]] for line in lines)
    average_value = math.fsum((line[1] + line[2]) / 2 * costs[line[0]] for line in lines)
    value_now = math.fsum(line[1] * costs[line[0]] for line in lines)
    return {
        "company": company.name,
        "currency": currency.name,
        "filters": filters,
        "order": order,
        "since": common.utc(since),
        "rows": rows,
        "truncated": len(lines) > limit,
        "totals": {
            "products": len(lines),
            "cost_of_goods_delivered": currency.round(cogs),
            "average_stock_value": currency.round(average_value),
            "stock_value": currency.round(value_now),
            "turnover": round(cogs / average_value, 2) if currency.round(average_value) > 0 else None,
            "days_of_cover": round(value_now / (cogs / days), 1) if currency.round(cogs) > 0 else None,
        },
    }
