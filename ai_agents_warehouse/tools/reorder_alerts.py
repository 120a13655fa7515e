from odoo import fields
from odoo.fields import Domain

from odoo.addons.ai_core.tools import apply_filters

from . import common

FILTERS = (common.warehouse_filter("warehouse_id"), common.product_filter(), common.category_filter())


@common.inventory_tool(
    "warehouse.get_reorder_alerts",
    display_name="GetReorderAlerts",
    record_keys={"orderpoint_id": "stock.warehouse.orderpoint"},
    description="Reordering rules (min/max) of the session's company whose forecast is below the "
    "minimum: the product, warehouse and location, on hand, forecast (on hand + incoming - outgoing up "
    "to the rule's lead-time horizon, as in Odoo's Replenishment), the suggested quantity to order, and "
    "the vendor with its lead time when the product has one. Returns the top N rules by shortfall "
    "(minimum - forecast), each with its rule's id and name, a truncation flag and counts. Snoozed "
    "rules are left out.",
    properties={
        "warehouse": common.WAREHOUSE,
        "product": common.PRODUCT,
        "category": common.CATEGORY,
    },
)
def get_reorder_alerts(ctx, args):
    env = ctx.env
    company = env.company
    limit = common.limit(args)
    today = fields.Date.context_today(env.user)
    domain = Domain("company_id", "=", company.id) & (
        Domain("snoozed_until", "=", False) | Domain("snoozed_until", "<=", today)
    )
    domain, filters, _records = apply_filters(env, args, FILTERS, domain)
    orderpoints = env["stock.warehouse.orderpoint"].search(domain)
    # qty_forecast is Odoo's own computation: grouped reads of quants and moves per location and
    # lead-time horizon, batched over the rules.
    orderpoints.fetch(["product_min_qty", "product_max_qty", "qty_to_order_manual"])
    below = orderpoints.filtered(lambda op: op.product_uom.compare(op.qty_forecast, op.product_min_qty) < 0)
    in_progress = below._quantity_in_progress()
    alerts = sorted(below, key=lambda op: (op.qty_forecast - op.product_min_qty, op.id))
    rnd = common.quantity_rounder(env)
    rows = []
    for orderpoint in alerts[:limit]:
        product = orderpoint.product_id
        suggested = orderpoint.qty_to_order_manual or orderpoint._get_qty_to_order(
            qty_in_progress_by_orderpoint=in_progress
        )
        vendor = (
            product._select_seller(quantity=suggested, uom_id=product.uom_id)
            or product._prepare_sellers()[:1]
        )
        rows.append(
            {
                # The rule itself, which the snooze and RFQ tools take.
                "orderpoint_id": orderpoint.id,
                "orderpoint": orderpoint.name,
                "product": product.display_name,
                "warehouse": orderpoint.warehouse_id.name,
                "location": orderpoint.location_id.display_name,
                "uom": orderpoint.product_uom.name,
                "min": rnd(orderpoint.product_min_qty),
                "max": rnd(orderpoint.product_max_qty),
                "on_hand": rnd(orderpoint.qty_on_hand),
                "forecast": rnd(orderpoint.qty_forecast),
                "suggested_qty": rnd(suggested),
                "vendor": vendor.partner_id.name if vendor else None,
                "vendor_lead_days": vendor.delay if vendor else None,
                "route_lead_days": orderpoint.lead_days,
                "trigger": orderpoint.trigger,
            }
        )
    return {
        "company": company.name,
        "filters": filters,
        "rows": rows,
        "truncated": len(alerts) > limit,
        "totals": {"rules_checked": len(orderpoints), "below_minimum": len(alerts)},
    }
