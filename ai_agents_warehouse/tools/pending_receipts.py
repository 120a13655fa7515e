from collections import defaultdict

from odoo import fields
from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Filter, apply_filters, toolkit

from . import common

# Lines shown per receipt; the rest is counted.
MAX_LINES = 10
PICKING_COLUMNS = (
    "id",
    "name",
    "partner_id",
    "origin",
    "scheduled_date",
    "date_deadline",
    "state",
    "picking_type_id",
)
PRODUCT_COLUMNS = ("id", "default_code", "name", "combination_indices")

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


def _lines(env, picking_ids):
    """{picking id: [(product, unit, quantity)]}: the pickings' moves not cancelled summed per
    product and unit, each picking's in the products' order, with Odoo's display names of the
    products (``[CODE] Name``) and units, in one statement over the ORM's queries of the moves,
    products and units the user may read; and {picking id: its delay alert date} (stock's
    ``delay_alert_date`` of the picking: the latest of its moves', which a cancelled move never
    has), from the same statement. Odoo's display name computation would read every
    column of the products and templates: names are built from their name columns, as Odoo
    builds them; a variant with attributes (their values in its name), an unreadable product
    or unit, or a context that changes the names takes Odoo's own (or its access error)."""
    Move = env["stock.move"]
    moves = Move._search(Domain("picking_id", "in", picking_ids) & Domain("state", "!=", "cancel"))

    def move_field(fname):
        return Move._field_to_sql(moves.table, fname, moves)

    keys = [move_field(fname) for fname in ("picking_id", "product_id", "product_uom")]
    moves.groupby = SQL(", ").join(keys)
    moves.order = None
    rows = env.execute_query(
        SQL(
            """SELECT m.picking_id, m.product_id, m.uom_id, m.quantity, m.delay_alert_date, p.id,
                      p.default_code, p.name, p.combination_indices, u.id, u.name
               FROM (%s) m
               LEFT JOIN LATERAL %s p ON TRUE
               LEFT JOIN LATERAL %s u ON TRUE
               ORDER BY m.picking_id, p.default_code, p.name, m.product_id""",
            moves.select(
                *keys[:2],
                SQL("%s AS uom_id", keys[2]),
                SQL("SUM(%s) AS quantity", move_field("product_uom_qty")),
                SQL("MAX(%s) AS delay_alert_date", move_field("delay_alert_date")),
            ),
            common.readable_row(env["product.product"], SQL("m.product_id"), *PRODUCT_COLUMNS),
            common.readable_row(env["uom.uom"], SQL("m.uom_id"), "id", "name"),
        )
    )
    lines = defaultdict(list)
    alerts = {}
    plain = common.plain_product_names(env)
    for row in rows:
        picking_id, product_id, uom_id, quantity, alert, *names = row
        readable, code, name, variant, uom_readable, uom = names
        product = common.product_display_name(
            env, product_id, code, name if readable else None, variant, plain
        )
        if not uom_readable:
            uom = common.odoo_record(env["uom.uom"], uom_id, readable=False).name
        lines[picking_id].append((product, uom, quantity))
        if alert and (picking_id not in alerts or alert > alerts[picking_id]):
            alerts[picking_id] = alert
    return lines, alerts


def pending_transfers(env, args, code, filters_spec, noun, delay_alerts=False):
    """Transfers of operation type ``code`` of the session's company that are not done or
    cancelled, the earliest first, with Odoo's late flag and their lines (receipts and deliveries
    answer the same way), counted as ``noun``; with ``delay_alerts``, each with the date a late
    previous operation now expects its goods (``expected_delay_date``, Odoo's delay alert)."""
    company = common.session_company(env, "name")
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
    # the rows shown with their late flag, and both counts over all rows (window functions are
    # computed before the LIMIT, over the ids only: the fewer columns they keep, the faster);
    # then, for the rows shown only, their columns and the names of their partners and
    # warehouses from the ORM's queries of those the user may read; one statement.
    query = Picking._search(domain, order="scheduled_date, id", limit=limit)
    is_late = _condition(Picking, late, query)
    top = env.execute_query(
        SQL(
            """SELECT %s, t.is_late, t.count, t.late_count, rp.id, rp.name, rp.complete_name,
                      pt.id, pt.warehouse_id, w.id, w.name
               FROM (%s) t
               JOIN %s p ON p.id = t.id
               LEFT JOIN LATERAL %s rp ON TRUE
               LEFT JOIN LATERAL %s pt ON TRUE
               LEFT JOIN LATERAL %s w ON TRUE
               ORDER BY p.scheduled_date, p.id""",
            SQL(", ").join(Picking._field_to_sql("p", fname) for fname in PICKING_COLUMNS),
            query.select(
                SQL("%s AS id", SQL.identifier(query.table, "id")),
                SQL("%s AS is_late", is_late),
                SQL("COUNT(*) OVER () AS count"),
                SQL("COUNT(*) FILTER (WHERE %s) OVER () AS late_count", is_late),
            ),
            SQL.identifier(Picking._table),
            common.readable_row(env["res.partner"], SQL("p.partner_id"), "id", "name", "complete_name"),
            common.readable_row(env["stock.picking.type"], SQL("p.picking_type_id"), "id", "warehouse_id"),
            common.readable_row(env["stock.warehouse"], SQL("pt.warehouse_id"), "id", "name"),
        )
    )
    count, late_count = top[0][9:11] if top else (0, 0)
    lines, alerts = _lines(env, [row[0] for row in top])
    rnd = common.quantity_rounder(env)
    plain = common.plain_partner_names(env)
    rows = []
    for row in top:
        picking_id, reference, partner_id, origin, scheduled, deadline, state, type_id, is_late = row[:9]
        partner_readable, partner, complete_name = row[11:14]
        type_readable, warehouse_id, warehouse_readable, warehouse = row[14:]
        if not (type_readable and (warehouse_readable or not warehouse_id)):
            picking_type = common.odoo_record(env["stock.picking.type"], type_id, type_readable)
            warehouse = common.odoo_record(
                env["stock.warehouse"], picking_type.warehouse_id.id, readable=False
            ).name
        picking_lines = lines[picking_id]
        rows.append(
            {
                "reference": reference,
                "partner": (
                    common.partner_display_name(
                        env, partner_id, partner_readable, partner, complete_name, plain
                    )
                    if partner_id
                    else None
                ),
                "origin": origin or None,
                "scheduled_date": common.utc(scheduled),
                "deadline": common.utc(deadline),
                **({"expected_delay_date": common.utc(alerts.get(picking_id))} if delay_alerts else {}),
                "late": bool(is_late),
                "days_late": max((now - scheduled).days, 0) if is_late else 0,
                "state": state,
                "warehouse": warehouse,
                "lines": [
                    {"product": product, "quantity": rnd(quantity), "uom": uom}
                    for product, uom, quantity in picking_lines[:MAX_LINES]
                ],
                "more_lines": max(len(picking_lines) - MAX_LINES, 0),
            }
        )
    return {
        "company": company.name,
        "filters": filters,
        "rows": rows,
        "truncated": count > len(rows),
        "totals": {noun: count, "late": late_count},
    }
