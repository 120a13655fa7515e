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
    Product = env["product.product"].with_context(active_test=False)
    products = Product._search(Domain.TRUE)
    UoM = env["uom.uom"].with_context(active_test=False)
    uoms = UoM._search(Domain.TRUE)

    def columns(model, query, *fnames):
        return query.select(
            *(
                SQL("%s AS %s", model._field_to_sql(query.table, fname, query), SQL.identifier(fname))
                for fname in fnames
            )
        )

    rows = env.execute_query(
        SQL(
            """SELECT m.picking_id, m.product_id, m.uom_id, m.quantity, m.delay_alert_date, p.id,
                      p.default_code, p.name, p.combination_indices, u.id, u.name
               FROM (%s) m
               LEFT JOIN (%s) p ON p.id = m.product_id
               LEFT JOIN (%s) u ON u.id = m.uom_id
               ORDER BY m.picking_id, p.default_code, p.name, m.product_id""",
            moves.select(
                *keys[:2],
                SQL("%s AS uom_id", keys[2]),
                SQL("SUM(%s) AS quantity", move_field("product_uom_qty")),
                SQL("MAX(%s) AS delay_alert_date", move_field("delay_alert_date")),
            ),
            columns(Product, products, "id", "default_code", "name", "combination_indices"),
            columns(UoM, uoms, "id", "name"),
        )
    )
    lines = defaultdict(list)
    alerts = {}
    for row in rows:
        picking_id, product_id, uom_id, quantity, alert, *names = row
        readable, code, name, variant, uom_readable, uom = names
        product = common.product_display_name(env, product_id, code, name if readable else None, variant)
        if not uom_readable:
            uom = UoM.browse(uom_id).name
        lines[picking_id].append((product, uom, quantity))
        if alert and (picking_id not in alerts or alert > alerts[picking_id]):
            alerts[picking_id] = alert
    return lines, alerts


def pending_transfers(env, args, code, filters_spec, noun, delay_alerts=False):
    """Transfers of operation type ``code`` of the session's company that are not done or
    cancelled, the earliest first, with Odoo's late flag and their lines (receipts and deliveries
    answer the same way), counted as ``noun``; with ``delay_alerts``, each with the date a late
    previous operation now expects its goods (``expected_delay_date``, Odoo's delay alert)."""
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
    # the rows shown with their columns and late flag, and both counts over all rows (window
    # functions are computed before the LIMIT), in one statement.
    query = Picking._search(domain, order="scheduled_date, id", limit=limit)
    is_late = _condition(Picking, late, query)
    top = env.execute_query(
        query.select(
            *(Picking._field_to_sql(query.table, fname, query) for fname in PICKING_COLUMNS),
            is_late,
            SQL("COUNT(*) OVER ()"),
            SQL("COUNT(*) FILTER (WHERE %s) OVER ()", is_late),
        )
    )
    count, late_count = top[0][-2:] if top else (0, 0)
    pickings = Picking.browse([row[0] for row in top])
    lines, alerts = _lines(env, pickings.ids)
    partners = common.fetch_partner_names(env["res.partner"].browse({row[2] for row in top if row[2]}))
    types = env["stock.picking.type"].browse({row[7] for row in top})
    types.fetch(["warehouse_id"])
    types.warehouse_id.fetch(["name"])
    rnd = common.quantity_rounder(env)
    rows = []
    for picking, row in zip(pickings, top, strict=True):
        _id, reference, partner_id, origin, scheduled, deadline, state, type_id, is_late, *_counts = row
        rows.append(
            {
                "reference": reference,
                "partner": common.name(partners.browse(partner_id)) if partner_id else None,
                "origin": origin or None,
                "scheduled_date": common.utc(scheduled),
                "deadline": common.utc(deadline),
                **({"expected_delay_date": common.utc(alerts.get(picking.id))} if delay_alerts else {}),
                "late": bool(is_late),
                "days_late": max((now - scheduled).days, 0) if is_late else 0,
                "state": state,
                "warehouse": common.name(types.browse(type_id).warehouse_id),
                "lines": [
                    {"product": product, "quantity": rnd(quantity), "uom": uom}
                    for product, uom, quantity in lines[picking.id][:MAX_LINES]
                ],
                "more_lines": max(len(lines[picking.id]) - MAX_LINES, 0),
            }
        )
    return {
        "company": company.name,
        "filters": filters,
        "rows": rows,
        "truncated": count > len(rows),
        "totals": {noun: count, "late": late_count},
    }
