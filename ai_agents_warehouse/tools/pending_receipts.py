from collections import defaultdict

from odoo import fields
from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Filter, apply_filters, toolkit

from . import common

# Lines shown per receipt; the rest is counted.
MAX_LINES = 10

FILTERS = (
    common.warehouse_filter("picking_type_id.warehouse_id"),
    # A vendor's contacts and addresses receive for it too.
    Filter(
        "partner",
        common.PARTNER_REF,
        "partner_id",
        "child_of",
        lambda partner: partner.commercial_partner_id.id,
    ),
    common.product_filter("move_ids.product_id"),
)


def late_domain(env):
    """Receipts Odoo itself calls late: the ``late`` filter ("Late") of the transfers search view
    (stock's ``stock.view_picking_internal_search``), ready or waiting and with a deadline issue, a
    deadline or a scheduled date before today. Drafts are not late, nor is a receipt due earlier
    today. The filter's ``current_date`` is the user's today; a date compared with a datetime is
    its midnight in the user's time zone, as the ORM reads the filter's domain."""
    today = fields.Date.context_today(env["stock.picking"], env.cr.now())
    return Domain("state", "in", ("assigned", "waiting", "confirmed")) & (
        Domain("has_deadline_issue", "=", True)
        | Domain("date_deadline", "<", today)
        | Domain("scheduled_date", "<", today)
    )


@common.inventory_tool(
    "warehouse.get_pending_receipts",
    display_name="GetPendingReceipts",
    description="Incoming transfers (receipts) of the session's company that are not done or cancelled: "
    "reference, vendor, source document, scheduled date and deadline (UTC), a late flag (Odoo's Late "
    "filter: ready or waiting, scheduled before today or with a deadline passed or before the scheduled "
    "date; drafts are never late), whole days past the scheduled date, status, warehouse, and the "
    "products with their quantities and units. Filters: warehouse, vendor, "
    "product, late only. Returns the N earliest receipts, a truncation flag and counts.",
    properties={
        "warehouse": common.WAREHOUSE,
        "partner": toolkit.ref_schema("Vendor: id or name."),
        "product": common.PRODUCT,
        "late_only": {"type": "boolean", "default": False},
    },
)
def get_pending_receipts(ctx, args):
    return pending_transfers(ctx.env, args, "incoming", FILTERS, "receipts")


def _condition(model, domain, query):
    """``domain`` as an SQL condition on ``query``'s rows of ``model``."""
    return domain.optimize_full(model)._to_sql(model, query.table, query)


def pending_transfers(env, args, code, filters_spec, noun, row_extra=None):
    """Transfers of operation type ``code`` of the session's company that are not done or
    cancelled, the earliest first, with Odoo's late flag and their lines (receipts and deliveries
    answer the same way), counted as ``noun``. ``row_extra(pickings)`` gives more columns per
    picking."""
    company = env.company
    limit = common.limit(args)
    now = env.cr.now()
    domain = (
        Domain("company_id", "=", company.id)
        & Domain("picking_type_id.code", "=", code)
        & Domain("state", "not in", ("done", "cancel"))
    )
    domain, filters, _records = apply_filters(env, args, filters_spec, domain)
    late = late_domain(env)
    if args.get("late_only"):
        domain &= late
        filters["late_only"] = True

    Picking = env["stock.picking"]
    # Odoo's Late filter compiled on the readable transfers' own query (record rules included):
    # both counts in one statement, and the late flag of the rows shown with them.
    query = Picking._search(domain)
    [(count, late_count)] = env.execute_query(
        query.select(SQL("COUNT(*)"), SQL("COUNT(*) FILTER (WHERE %s)", _condition(Picking, late, query)))
    )
    query = Picking._search(domain, order="scheduled_date, id", limit=limit)
    top = env.execute_query(query.select(SQL.identifier(query.table, "id"), _condition(Picking, late, query)))
    late_ids = {picking_id for picking_id, is_late in top if is_late}
    pickings = Picking.browse([picking_id for picking_id, _late in top])
    pickings.fetch(
        ["name", "partner_id", "origin", "scheduled_date", "date_deadline", "state", "picking_type_id"]
    )
    lines = defaultdict(list)
    for picking, product, uom, quantity in env["stock.move"]._read_group(
        Domain("picking_id", "in", pickings.ids) & Domain("state", "!=", "cancel"),
        ["picking_id", "product_id", "product_uom"],
        ["product_uom_qty:sum"],
        # Each picking's lines in the products' order; no join on the pickings to sort by them.
        order="product_id",
    ):
        lines[picking].append((product, uom, quantity))
    moves = [line for picking_lines in lines.values() for line in picking_lines]
    common.fetch_product_names(env["product.product"].browse({product.id for product, _uom, _qty in moves}))
    env["uom.uom"].browse({uom.id for _product, uom, _qty in moves}).fetch(["name"])
    common.fetch_partner_names(pickings.partner_id)
    pickings.picking_type_id.fetch(["warehouse_id"])
    pickings.picking_type_id.warehouse_id.fetch(["name"])
    extra = row_extra(pickings) if row_extra else {}
    rnd = common.quantity_rounder(env)
    rows = []
    for picking in pickings:
        is_late = picking.id in late_ids
        rows.append(
            {
                "reference": picking.name,
                "partner": common.name(picking.partner_id),
                "origin": picking.origin or None,
                "scheduled_date": common.utc(picking.scheduled_date),
                "deadline": common.utc(picking.date_deadline),
                **extra.get(picking, {}),
                "late": is_late,
                "days_late": max((now - picking.scheduled_date).days, 0) if is_late else 0,
                "state": picking.state,
                "warehouse": common.name(picking.picking_type_id.warehouse_id),
                "lines": [
                    {"product": product.display_name, "quantity": rnd(quantity), "uom": uom.name}
                    for product, uom, quantity in lines[picking][:MAX_LINES]
                ],
                "more_lines": max(len(lines[picking]) - MAX_LINES, 0),
            }
        )
    return {
        "company": company.name,
        "filters": filters,
        "rows": rows,
        "truncated": count > len(rows),
        "totals": {noun: count, "late": late_count},
    }
