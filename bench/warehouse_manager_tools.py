"""The Warehouse agent's manager tools (pending deliveries, stock forecast, inventory turnover, stock
valuation) over the warehouse bench's data, against hand-written SQL returning the same figures,
interleaved in the same run.

Run with the interpreter that imports Odoo 19, on a scratch database with
ai_agents_warehouse_account installed (the first run bulk-inserts its data there with SQL and
commits it):

    odoo-bin -c /path/to/odoo.conf -d aia_bench_wh -i ai_agents_warehouse_account --stop-after-init
    python bench/warehouse_manager_tools.py -c /path/to/odoo.conf -d aia_bench_wh [--runs 15]

Data: warehouse_tools.py's (4 warehouses, 2,500 products, 50,000 quants, 200,000 done moves over
two years), plus 4,000 open transfers (half receipts, half deliveries to 50 customers, scheduled
from 30 days ago to 60 days ahead, a tenth of them waiting, a twentieth drafts) of 5 moves each:
20,000 moves not done.

Each handler runs as the admin user (record rules apply) through the same tool context as a chat
turn, ORM caches cleared before each run. The baseline is hand-written SQL (a few queries per
figure set), its rows formatted the same way; every run asserts both give equal results.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import datetime, time, timedelta

from odoo_bench import command_line, interleaved, median_ms, superuser_env
from warehouse_tools import _rounder, ensure_data

OPEN_PICKINGS = 4_000
MOVES_PER_PICKING = 5
MARK = "BENCH/OUT/00001"
PICKING_FIELDS = ("name", "type", "src", "dst", "company", "state", "scheduled", "partner", "origin")


# === DATA === #


def ensure_open_transfers(env):
    """4,000 open receipts and deliveries with their moves, once."""
    if env["stock.picking"].search_count([("name", "=", MARK)]):
        return
    rng = random.Random(20261207)
    company = env.company
    warehouses = env["stock.warehouse"].search([("code", "=like", "BD%")], order="id")
    customers = env["res.partner"].create(
        [{"name": f"Bench customer {index}", "is_company": True} for index in range(50)]
    )
    vendor = env["res.partner"].create({"name": "Bench vendor", "is_company": True})
    customer_loc = env.ref("stock.stock_location_customers").id
    supplier_loc = env.ref("stock.stock_location_suppliers").id
    products = env["product.product"].search([("default_code", "=like", "BW-%")])
    product_uom = {product.id: product.uom_id.id for product in products}
    product_ids = list(product_uom)
    now = env.cr.now()
    cr = env.cr
    pickings, moves = [], []
    for index in range(OPEN_PICKINGS):
        warehouse = warehouses[index % len(warehouses)]
        outgoing = index % 2 == 0
        state = rng.choices(("assigned", "confirmed", "waiting", "draft"), (65, 20, 10, 5))[0]
        scheduled = now + timedelta(minutes=rng.randint(-30 * 1440, 60 * 1440))
        stock = warehouse.lot_stock_id.id
        source, dest = (stock, customer_loc) if outgoing else (supplier_loc, stock)
        kind = "OUT" if outgoing else "IN"
        pickings.append(
            (
                f"BENCH/{kind}/{index // 2 + 1:05d}",
                (warehouse.out_type_id if outgoing else warehouse.in_type_id).id,
                source,
                dest,
                company.id,
                state,
                scheduled,
                (customers[rng.randrange(len(customers))] if outgoing else vendor).id,
                f"SO{index:05d}" if outgoing else f"PO{index:05d}",
            )
        )
        for _move in range(MOVES_PER_PICKING):
            product = product_ids[rng.randrange(len(product_ids))]
            moves.append(
                (index, product, product_uom[product], source, dest, rng.randint(1, 20), scheduled, state)
            )
    cr.execute(
        """
        INSERT INTO stock_picking (name, picking_type_id, location_id, location_dest_id, company_id, state,
                                   scheduled_date, partner_id, origin, move_type, priority,
                                   has_deadline_issue, create_uid, create_date, write_uid, write_date)
        SELECT v.name, v.type, v.src, v.dst, v.company, v.state, v.scheduled, v.partner, v.origin,
               'direct', '0', false, 1, now(), 1, now()
        FROM jsonb_to_recordset(%s::jsonb)
             AS v(name text, type int, src int, dst int, company int, state text,
                  scheduled timestamp, partner int, origin text)
        RETURNING id
        """,
        [_json([dict(zip(PICKING_FIELDS, picking, strict=True)) for picking in pickings])],
    )
    picking_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        """
        INSERT INTO stock_move (picking_id, picking_type_id, company_id, product_id, product_uom, location_id,
                                location_dest_id, procure_method, product_uom_qty, product_qty, quantity,
                                date, state, create_uid, create_date, write_uid, write_date)
        SELECT v.picking, p.picking_type_id, %s, v.product, v.uom, v.src, v.dst, 'make_to_stock',
               v.qty, v.qty, 0, v.date, v.state, 1, now(), 1, now()
        FROM jsonb_to_recordset(%s::jsonb)
             AS v(picking int, product int, uom int, src int, dst int, qty numeric,
                  date timestamp, state text)
        JOIN stock_picking p ON p.id = v.picking
        """,
        [
            company.id,
            _json(
                [
                    {
                        "picking": picking_ids[m[0]],
                        "product": m[1],
                        "uom": m[2],
                        "src": m[3],
                        "dst": m[4],
                        "qty": m[5],
                        "date": m[6],
                        "state": m[7],
                    }
                    for m in moves
                ]
            ),
        ],
    )
    cr.execute("ANALYZE stock_picking, stock_move")
    env.invalidate_all()
    cr.commit()


def _json(rows):
    import json

    return json.dumps(rows, default=lambda value: value.isoformat(sep=" "))


# === BASELINES: HAND-WRITTEN SQL === #


def _product_name(lang):
    return f"'[' || pp.default_code || '] ' || COALESCE(pt.name->>'{lang}', pt.name->>'en_US')"


def sql_pending_deliveries(env, limit):
    import pytz

    cr, company, lang = env.cr, env.company, env.lang or "en_US"
    rnd = _rounder(env)
    now = cr.now()
    tz = pytz.timezone(env.user.tz or "UTC")
    today = now.replace(tzinfo=pytz.utc).astimezone(tz).date()
    midnight = tz.localize(datetime.combine(today, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
    args = {"company": company.id, "midnight": midnight, "limit": limit, "lang": lang}
    pending = """
        FROM stock_picking p JOIN stock_picking_type t ON t.id = p.picking_type_id
        WHERE p.company_id = %(company)s AND t.code = 'outgoing' AND p.state NOT IN ('done', 'cancel')
    """
    late = """(p.state IN ('assigned', 'waiting', 'confirmed')
               AND (p.has_deadline_issue OR p.date_deadline < %(midnight)s
                    OR p.scheduled_date < %(midnight)s))"""
    cr.execute(f"SELECT count(*), count(*) FILTER (WHERE {late}) {pending}", args)
    count, late_count = cr.fetchone()
    cr.execute(
        f"""
        SELECT p.id, p.name, rp.name, p.origin, p.scheduled_date, p.date_deadline, {late}, p.state, w.name
        {
            pending.replace(
                "WHERE",
                "LEFT JOIN res_partner rp ON rp.id = p.partner_id "
                "LEFT JOIN stock_warehouse w ON w.id = t.warehouse_id WHERE",
            )
        }
        ORDER BY p.scheduled_date, p.id LIMIT %(limit)s
        """,
        args,
    )
    top = cr.fetchall()
    ids = [row[0] for row in top]
    cr.execute(
        f"""
        SELECT m.picking_id, {_product_name(lang)}, COALESCE(u.name->>%(lang)s, u.name->>'en_US'),
               SUM(m.product_uom_qty), MAX(m.delay_alert_date)
        FROM stock_move m
        JOIN product_product pp ON pp.id = m.product_id
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        JOIN uom_uom u ON u.id = m.product_uom
        WHERE m.picking_id = ANY(%(ids)s) AND m.state != 'cancel'
        GROUP BY m.picking_id, pp.id, pp.default_code, pt.name, m.product_uom, u.name
        ORDER BY m.picking_id, pp.default_code, pp.id
        """,
        {**args, "ids": ids},
    )
    lines, alerts = {}, {}
    # A cancelled move has no delay alert: the picking's is the latest of its lines'.
    for picking, product, uom, quantity, alert in cr.fetchall():
        lines.setdefault(picking, []).append({"product": product, "quantity": rnd(quantity), "uom": uom})
        if alert and (picking not in alerts or alert > alerts[picking]):
            alerts[picking] = alert
    rows = []
    for pid, name, partner, origin, scheduled, deadline, is_late, state, warehouse in top:
        picking_lines = lines.get(pid, [])
        rows.append(
            {
                "reference": name,
                "partner": partner,
                "origin": origin or None,
                "scheduled_date": _utc(scheduled),
                "deadline": _utc(deadline),
                "expected_delay_date": _utc(alerts.get(pid)),
                "late": is_late,
                "days_late": max((now - scheduled).days, 0) if is_late else 0,
                "state": state,
                "warehouse": warehouse,
                "lines": picking_lines[:10],
                "more_lines": max(len(picking_lines) - 10, 0),
            }
        )
    return {"rows": rows, "truncated": count > len(rows), "totals": {"deliveries": count, "late": late_count}}


def _utc(value):
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


WAREHOUSE_LOCATIONS = """
    wh_loc AS (
        SELECT l.id FROM stock_location l
        WHERE EXISTS (
            SELECT 1 FROM stock_warehouse w JOIN stock_location v ON v.id = w.view_location_id
            WHERE w.company_id = %(company)s AND w.active AND l.parent_path LIKE v.parent_path || '%%')
    )
"""


def _storable(lang):
    return f"""
        SELECT pp.id, {_product_name(lang)} AS name, COALESCE(u.name->>%(lang)s, u.name->>'en_US') AS uom,
               COALESCE((pp.standard_price->>%(key)s)::float, 0) AS cost
        FROM product_product pp
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        JOIN uom_uom u ON u.id = pt.uom_id
        WHERE pp.active AND pt.is_storable AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
    """


def sql_stock_forecast(env, days, limit):
    cr, company, lang = env.cr, env.company, env.lang or "en_US"
    rnd = _rounder(env)
    until = cr.now() + timedelta(days=days)
    todo = "m.state IN ('waiting', 'confirmed', 'assigned', 'partially_available')"
    cr.execute(
        f"""
        WITH {WAREHOUSE_LOCATIONS},
        quants AS (
            SELECT q.product_id, SUM(q.quantity) AS qty FROM stock_quant q
            WHERE q.company_id = %(company)s AND q.location_id IN (SELECT id FROM wh_loc)
            GROUP BY q.product_id
        ),
        moves AS (
            SELECT m.product_id,
                   SUM(m.product_qty) FILTER (WHERE COALESCE(m.location_final_id, m.location_dest_id) IN
                       (SELECT id FROM wh_loc) AND m.location_id NOT IN (SELECT id FROM wh_loc)) AS incoming,
                   SUM(m.product_qty) FILTER (WHERE m.location_id IN (SELECT id FROM wh_loc)
                       AND COALESCE(m.location_final_id, m.location_dest_id) NOT IN (SELECT id FROM wh_loc))
                       AS outgoing
            FROM stock_move m
            WHERE m.company_id = %(company)s AND {todo} AND m.date <= %(until)s
            GROUP BY m.product_id
        ),
        products AS ({_storable(lang)})
        SELECT p.id, p.name, p.uom, COALESCE(q.qty, 0), COALESCE(m.incoming, 0), COALESCE(m.outgoing, 0)
        FROM products p LEFT JOIN quants q ON q.product_id = p.id LEFT JOIN moves m ON m.product_id = p.id
        WHERE q.product_id IS NOT NULL OR m.product_id IS NOT NULL
        """,
        {"company": company.id, "until": until, "lang": lang, "key": str(company.id)},
    )
    lines = []
    for pid, name, uom, qty, incoming, outgoing in cr.fetchall():
        qty, incoming, outgoing = rnd(qty), rnd(incoming), rnd(outgoing)
        if not (qty or incoming or outgoing):
            continue
        lines.append((rnd(qty + incoming - outgoing), pid, name, uom, qty, incoming, outgoing))
    lines.sort(key=lambda line: line[:2])
    return {
        "rows": [
            {"product": name, "uom": uom, "on_hand": q, "incoming": i, "outgoing": o, "forecast": f}
            for f, _pid, name, uom, q, i, o in lines[:limit]
        ],
        "truncated": len(lines) > limit,
        "totals": {"products": len(lines), "shortages": sum(1 for line in lines if line[0] < 0)},
    }


def sql_inventory_turnover(env, days, limit):
    cr, company, lang = env.cr, env.company, env.lang or "en_US"
    currency = company.currency_id
    rnd = _rounder(env)
    since = cr.now() - timedelta(days=days)
    # Done quantities in the product's unit (the move's unit converted).
    qty = "m.quantity * mu.factor / pu.factor"
    cr.execute(
        f"""
        WITH {WAREHOUSE_LOCATIONS},
        quants AS (
            SELECT q.product_id, SUM(q.quantity) AS qty FROM stock_quant q
            WHERE q.company_id = %(company)s AND q.location_id IN (SELECT id FROM wh_loc)
            GROUP BY q.product_id
        ),
        done AS (
            SELECT m.product_id,
                   SUM({qty}) FILTER (WHERE m.location_dest_id IN (SELECT id FROM wh_loc)
                                      AND m.location_id NOT IN (SELECT id FROM wh_loc)) AS moved_in,
                   SUM({qty}) FILTER (WHERE m.location_id IN (SELECT id FROM wh_loc)
                                      AND m.location_dest_id NOT IN (SELECT id FROM wh_loc)) AS moved_out,
                   SUM({qty}) FILTER (WHERE m.date >= %(since)s AND s.usage = 'internal'
                                      AND s.warehouse_id IN (SELECT id FROM stock_warehouse
                                                             WHERE company_id = %(company)s AND active)
                                      AND d.usage IN ('customer', 'production')) AS delivered
            FROM stock_move m
            JOIN stock_location s ON s.id = m.location_id
            JOIN stock_location d ON d.id = m.location_dest_id
            JOIN uom_uom mu ON mu.id = m.product_uom
            JOIN product_product mp ON mp.id = m.product_id
            JOIN product_template mt ON mt.id = mp.product_tmpl_id
            JOIN uom_uom pu ON pu.id = mt.uom_id
            WHERE m.company_id = %(company)s AND m.state = 'done' AND m.date > %(since)s
            GROUP BY m.product_id
        ),
        products AS ({_storable(lang)})
        SELECT p.id, p.name, p.uom, p.cost, COALESCE(q.qty, 0), COALESCE(d.moved_in, 0),
               COALESCE(d.moved_out, 0), COALESCE(d.delivered, 0)
        FROM products p LEFT JOIN quants q ON q.product_id = p.id LEFT JOIN done d ON d.product_id = p.id
        """,
        {"company": company.id, "since": since, "lang": lang, "key": str(company.id)},
    )
    lines = []
    for pid, name, uom, cost, on_hand, moved_in, moved_out, delivered in cr.fetchall():
        on_hand_now = rnd(on_hand)
        opening = rnd(on_hand - moved_in + moved_out)
        delivered = rnd(delivered)
        if not on_hand_now and not delivered:
            continue
        average = (opening + on_hand_now) / 2
        turnover = delivered / average if rnd(average) > 0 else None
        cover = on_hand_now / (delivered / days) if delivered > 0 else None
        lines.append((pid, name, uom, cost, on_hand_now, opening, delivered, average, turnover, cover))
    lines.sort(key=lambda line: (line[9] is None, line[9] or 0.0, line[0]))
    rows = [
        {
            "product": name,
            "uom": uom,
            "delivered": delivered,
            "on_hand_start": opening,
            "on_hand": on_hand,
            "average_on_hand": rnd(average),
            "turnover": round(turnover, 2) if turnover is not None else None,
            "annual_turnover": round(turnover * 365 / days, 2) if turnover is not None else None,
            "days_of_cover": round(cover, 1) if cover is not None else None,
            "unit_cost": cost,
            "cost_of_goods_delivered": currency.round(delivered * cost),
        }
        for _pid, name, uom, cost, on_hand, opening, delivered, average, turnover, cover in lines[:limit]
    ]
    cogs = math.fsum(line[6] * line[3] for line in lines)
    average_value = math.fsum(line[7] * line[3] for line in lines)
    value_now = math.fsum(line[4] * line[3] for line in lines)
    return {
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


def sql_stock_valuation(env, limit):
    cr, company, lang = env.cr, env.company, env.lang or "en_US"
    currency = company.currency_id
    rnd = _rounder(env)
    cr.execute(
        """
        WITH valued AS (
            SELECT q.product_id, SUM(q.quantity) AS qty
            FROM stock_quant q JOIN stock_location l ON l.id = q.location_id
            WHERE q.company_id = %(company)s AND l.usage IN ('internal', 'transit')
              AND (q.owner_id IS NULL OR q.owner_id = %(partner)s)
            GROUP BY q.product_id
        )
        SELECT v.product_id, v.qty, COALESCE((pp.standard_price->>%(key)s)::float, 0), pt.lot_valuated
        FROM valued v
        JOIN product_product pp ON pp.id = v.product_id
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        """,
        {"company": company.id, "partner": company.partner_id.id, "key": str(company.id)},
    )
    lines = []
    for pid, qty, cost, lot_valuated in cr.fetchall():
        assert not lot_valuated, "the bench has no product valued per lot"
        value = qty * cost
        if rnd(qty) or currency.round(value):
            lines.append((-value, pid, qty, cost))
    lines.sort()
    top = lines[:limit]
    cr.execute(
        f"""
        SELECT pp.id, {_product_name(lang)}, c.complete_name, COALESCE(u.name->>%(lang)s, u.name->>'en_US'),
               COALESCE(c.property_cost_method->>%(key)s, %(method)s)
        FROM product_product pp
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        JOIN product_category c ON c.id = pt.categ_id
        JOIN uom_uom u ON u.id = pt.uom_id
        WHERE pp.id = ANY(%(ids)s)
        """,
        {
            "ids": [line[1] for line in top],
            "lang": lang,
            "key": str(company.id),
            "method": company.cost_method,
        },
    )
    names = {row[0]: row[1:] for row in cr.fetchall()}
    return {
        "rows": [
            {
                "product": names[pid][0],
                "category": names[pid][1],
                "cost_method": names[pid][3],
                "quantity": rnd(qty),
                "uom": names[pid][2],
                "unit_value": cost,
                "value": currency.round(-negative),
            }
            for negative, pid, qty, cost in top
        ],
        "truncated": len(lines) > limit,
        "totals": {
            "value": currency.round(-math.fsum(line[0] for line in lines)),
            "products": sum(1 for line in lines if rnd(line[2])),
        },
    }


# === MEASURE === #


def main():
    parser = command_line(__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with superuser_env(args) as env:
        ensure_data(env)
        ensure_open_transfers(env)
        from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

        admin = env.ref("base.user_admin")
        company = admin.company_id
        env = env(user=admin.id, context={"allowed_company_ids": [company.id]})
        env.cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE state NOT IN ('done', 'cancel')) FROM stock_move"
        )
        moves, open_moves = env.cr.fetchone()
        cases = [
            (
                "GetPendingDeliveries, top 20",
                "warehouse.get_pending_deliveries",
                {},
                lambda: sql_pending_deliveries(env, 20),
            ),
            (
                "GetStockForecast, 30 days, top 20",
                "warehouse.get_stock_forecast",
                {"days": 30},
                lambda: sql_stock_forecast(env, 30, 20),
            ),
            (
                "GetInventoryTurnover, 90 days, top 20",
                "warehouse.get_inventory_turnover",
                {"days": 90},
                lambda: sql_inventory_turnover(env, 90, 20),
            ),
            (
                "GetStockValuation, per product, top 20",
                "warehouse.get_stock_valuation",
                {},
                lambda: sql_stock_valuation(env, 20),
            ),
        ]
        keys = ("rows", "truncated", "totals")
        lines = []
        for label, tool_name, tool_args, baseline in cases:
            spec = CATALOGUE.get(tool_name)

            def tool(_index, spec=spec, tool_args=tool_args):
                env.invalidate_all()
                return OdooToolContext(env).invoke(spec.handler, dict(tool_args), timeout=spec.timeout)

            def sql(_index, baseline=baseline):
                env.invalidate_all()
                return baseline()

            interleaved({"tool": tool, "sql": sql}, 2)  # warm-up
            measured = interleaved({"tool": tool, "sql": sql}, args.runs)
            result, expected = measured["tool"]["result"], measured["sql"]["result"]
            assert {key: result[key] for key in keys} == expected, (tool_name, result, expected)
            tool_ms, sql_ms = median_ms(measured["tool"]["seconds"]), median_ms(measured["sql"]["seconds"])
            queries = statistics.median(measured["tool"]["queries"])
            detail = ", ".join(
                f"{key} {value}"
                for key, value in result["totals"].items()
                if key in ("products", "deliveries", "late")
            )
            ratio = tool_ms / sql_ms
            lines.append(
                f"| {label} | {detail} | {tool_ms:.1f} ({queries:g} queries) | {sql_ms:.1f} "
                f"| {ratio:.2f}x | ≤ 1.25x |"
            )
        env.cr.rollback()
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[:3]
    print(
        f"{moves} stock moves ({open_moves} not done); median of {args.runs} interleaved runs; "
        f"load average {' '.join(load)}"
    )
    print("| measure | result | handler (ms) | hand-written SQL (ms) | ratio | goal |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
