"""Warehouse tools over 200 k stock moves and 50 k quants: the real handlers against hand-written SQL
returning the same figures, measured in the same run.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_agents_warehouse
installed (the first run bulk-inserts its data there with SQL and commits it):

    odoo-bin -c /path/to/odoo.conf -d aia_bench_wh -i ai_agents_warehouse --stop-after-init
    python bench/warehouse_tools.py -c /path/to/odoo.conf -d aia_bench_wh [--runs 15]

Data: 4 warehouses with 6 internal locations each, 2,500 storable products (20 % in kg, costs from
1 to 100), 50,000 quants (each product in 20 locations, a tenth of them partly reserved) and 200,000
done stock moves over two years (half deliveries to customers, 30 % receipts, 20 % internal
transfers). A quarter of the products has had no delivery for a year.

Each handler runs as the admin user (record rules apply) through the same tool context as a chat
turn, ORM caches cleared before each run. The baseline is one hand-written SQL query per figure
set, its rows formatted the same way; every run asserts both give equal results.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from odoo_bench import command_line, median_ms, superuser_env

PRODUCTS = 2_500
LOCATIONS_PER_PRODUCT = 20
MOVES = 200_000
WAREHOUSES = 4
BINS = 5
MARK = "BW-00001"


# === DATA === #


def ensure_data(env):
    """Create the bench data once; later runs reuse it."""
    if env["product.product"].search_count([("default_code", "=", MARK)]):
        return
    rng = random.Random(20261121)
    company = env.company
    warehouses = env["stock.warehouse"].create(
        [{"name": f"Bench depot {index}", "code": f"BD{index}"} for index in range(1, WAREHOUSES + 1)]
    )
    locations = []
    for warehouse in warehouses:
        locations.append(warehouse.lot_stock_id.id)
        bins = env["stock.location"].create(
            [{"name": f"Bin {index}", "location_id": warehouse.lot_stock_id.id} for index in range(BINS)]
        )
        locations.extend(bins.ids)
    categories = env["product.category"].create([{"name": f"Bench category {index}"} for index in range(10)])
    unit, kg = env.ref("uom.product_uom_unit"), env.ref("uom.product_uom_kgm")
    products = env["product.product"].create(
        [
            {
                "name": f"Bench product {index}",
                "default_code": f"BW-{index:05d}",
                "type": "consu",
                "is_storable": True,
                "uom_id": (kg if index % 5 == 0 else unit).id,
                "categ_id": categories[index % 10].id,
                "standard_price": rng.randint(100, 10_000) / 100,
            }
            for index in range(1, PRODUCTS + 1)
        ]
    )
    customer = env.ref("stock.stock_location_customers").id
    supplier = env.ref("stock.stock_location_suppliers").id
    cr = env.cr
    cr.execute("SELECT setseed(0.42)")
    cr.execute(
        "CREATE TEMP TABLE bench_product ON COMMIT DROP AS "
        "SELECT row_number() OVER (ORDER BY pp.id) - 1 AS idx, pp.id AS product_id, pt.uom_id "
        "FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id "
        "WHERE pp.id = ANY(%s)",
        [products.ids],
    )
    # 50 k quants: each product in 20 of the 24 internal locations.
    cr.execute(
        """
        INSERT INTO stock_quant (product_id, location_id, company_id, quantity, reserved_quantity, in_date,
                                 create_uid, create_date, write_uid, write_date)
        SELECT p.product_id, (%(locations)s::int[])[1 + (p.idx + j) %% %(nloc)s], %(company)s, qty.q,
               CASE WHEN random() < 0.1 THEN round((qty.q * random())::numeric, 3) ELSE 0 END,
               now() - random() * interval '700 days', 1, now(), 1, now()
        FROM bench_product p CROSS JOIN generate_series(0, %(per)s - 1) j
        CROSS JOIN LATERAL (SELECT round((1 + random() * 1000)::numeric, 3) + 0 * j AS q) qty
        """,
        {
            "locations": locations,
            "nloc": len(locations),
            "company": company.id,
            "per": LOCATIONS_PER_PRODUCT,
        },
    )
    # 200 k done moves over two years; products with idx % 4 = 0 have shipped nothing for a year.
    cr.execute(
        """
        INSERT INTO stock_move (company_id, product_id, product_uom, location_id, location_dest_id,
                                procure_method, product_uom_qty, product_qty, quantity, date, state,
                                create_uid, create_date, write_uid, write_date)
        SELECT %(company)s, p.product_id, p.uom_id,
               CASE WHEN m.kind < 0.3 THEN %(supplier)s ELSE m.loc END,
               CASE WHEN m.kind < 0.3 THEN m.loc
                    WHEN m.kind < 0.8 THEN %(customer)s
                    ELSE (%(locations)s::int[])[1 + (m.i %% %(nloc)s)] END,
               'make_to_stock', m.qty, m.qty, m.qty,
               CASE WHEN p.idx %% 4 = 0 AND m.kind >= 0.3 AND m.kind < 0.8
                    THEN now() - interval '366 days' - random() * interval '364 days'
                    ELSE now() - random() * interval '730 days' END,
               'done', 1, now(), 1, now()
        FROM (
            SELECT i, random() AS kind, (1 + floor(random() * 20))::numeric AS qty,
                   floor(random() * %(nproducts)s)::int AS idx,
                   (%(locations)s::int[])[1 + floor(random() * %(nloc)s)::int] AS loc
            FROM generate_series(1, %(moves)s) i
        ) m JOIN bench_product p ON p.idx = m.idx
        """,
        {
            "company": company.id,
            "supplier": supplier,
            "customer": customer,
            "locations": locations,
            "nloc": len(locations),
            "nproducts": PRODUCTS,
            "moves": MOVES,
        },
    )
    cr.execute("ANALYZE stock_quant, stock_move, product_product, product_template, stock_location")
    env.invalidate_all()
    cr.commit()


# === BASELINES: HAND-WRITTEN SQL === #


def sql_stock_levels(env, limit):
    """GetStockLevels grouped per product and warehouse, no filter: aggregate, keep the top rows,
    then name them."""
    cr, lang = env.cr, env.lang or "en_US"
    rnd = _rounder(env)
    args = {"company": env.company.id, "lang": lang, "limit": limit + 1}
    cr.execute(
        """
        WITH top AS (
            SELECT q.product_id, l.warehouse_id, SUM(q.quantity) AS qty, SUM(q.reserved_quantity) AS res,
                   MIN(q.location_id) AS loc
            FROM stock_quant q JOIN stock_location l ON l.id = q.location_id
            WHERE q.company_id = %(company)s AND l.usage = 'internal'
            GROUP BY q.product_id, l.warehouse_id
            ORDER BY qty DESC, q.product_id, loc
            LIMIT %(limit)s
        )
        SELECT '[' || pp.default_code || '] ' || COALESCE(pt.name->>%(lang)s, pt.name->>'en_US'), w.name,
               COALESCE(u.name->>%(lang)s, u.name->>'en_US'), top.qty, top.res
        FROM top
        JOIN product_product pp ON pp.id = top.product_id
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        JOIN uom_uom u ON u.id = pt.uom_id
        LEFT JOIN stock_warehouse w ON w.id = top.warehouse_id
        ORDER BY top.qty DESC, top.product_id, top.loc
        """,
        args,
    )
    groups = cr.fetchall()
    cr.execute(
        """
        SELECT COALESCE(u.name->>%(lang)s, u.name->>'en_US'), SUM(q.quantity), SUM(q.reserved_quantity),
               COUNT(DISTINCT q.product_id), COUNT(DISTINCT q.location_id)
        FROM stock_quant q
        JOIN stock_location l ON l.id = q.location_id
        JOIN product_product pp ON pp.id = q.product_id
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        JOIN uom_uom u ON u.id = pt.uom_id
        WHERE q.company_id = %(company)s AND l.usage = 'internal'
        GROUP BY u.id ORDER BY SUM(q.quantity) DESC
        """,
        args,
    )
    totals = cr.fetchall()

    def figures(uom, on_hand, reserved):
        return {
            "uom": uom,
            "on_hand": rnd(on_hand),
            "reserved": rnd(reserved),
            "available": rnd(on_hand - reserved),
        }

    return {
        "rows": [{"product": p, "warehouse": w, **figures(u, q, r)} for p, w, u, q, r in groups[:limit]],
        "truncated": len(groups) > limit,
        "totals": [{**figures(u, q, r), "products": np, "locations": nl} for u, q, r, np, nl in totals],
    }


def sql_slow_moving(env, days, limit):
    cr, lang, company = env.cr, env.lang or "en_US", env.company
    rnd = _rounder(env)
    currency = company.currency_id
    since = cr.now() - timedelta(days=days)
    outgoing = """
        m.state = 'done' AND m.company_id = %(company)s
        AND s.usage = 'internal' AND d.usage IN ('customer', 'production')
    """
    args = {"company": company.id, "since": since, "key": str(company.id), "lang": lang}
    cr.execute(
        f"""
        WITH on_hand AS (
            SELECT q.product_id, SUM(q.quantity) AS qty
            FROM stock_quant q JOIN stock_location l ON l.id = q.location_id
            WHERE q.company_id = %(company)s AND l.usage = 'internal'
              AND NOT EXISTS (
                  SELECT 1 FROM stock_move m
                  JOIN stock_location s ON s.id = m.location_id
                  JOIN stock_location d ON d.id = m.location_dest_id
                  WHERE m.product_id = q.product_id AND m.date >= %(since)s AND {outgoing})
            GROUP BY q.product_id HAVING SUM(q.quantity) > 0
        )
        SELECT o.product_id, o.qty, COALESCE((pp.standard_price->>%(key)s)::float, 0),
               '[' || pp.default_code || '] ' || COALESCE(pt.name->>%(lang)s, pt.name->>'en_US'),
               COALESCE(u.name->>%(lang)s, u.name->>'en_US')
        FROM on_hand o
        JOIN product_product pp ON pp.id = o.product_id
        JOIN product_template pt ON pt.id = pp.product_tmpl_id
        JOIN uom_uom u ON u.id = pt.uom_id
        """,
        args,
    )
    lines = [(qty * cost, qty, cost, pid, name, uom) for pid, qty, cost, name, uom in cr.fetchall()]
    lines.sort(key=lambda line: (-line[0], line[3]))
    top = lines[:limit]
    cr.execute(
        f"""
        SELECT m.product_id, MAX(m.date) FROM stock_move m
        JOIN stock_location s ON s.id = m.location_id
        JOIN stock_location d ON d.id = m.location_dest_id
        WHERE m.product_id = ANY(%(ids)s) AND {outgoing}
        GROUP BY m.product_id
        """,
        {**args, "ids": [line[3] for line in top]},
    )
    last = dict(cr.fetchall())
    now = cr.now()
    quantities = {}
    for line in lines:
        quantities[line[5]] = quantities.get(line[5], 0.0) + line[1]
    return {
        "rows": [
            {
                "product": name,
                "on_hand": rnd(qty),
                "uom": uom,
                "unit_cost": cost,
                "value": currency.round(value),
                "last_outgoing": last[pid].strftime("%Y-%m-%d %H:%M:%S") if last.get(pid) else None,
                "days_since_outgoing": (now - last[pid]).days if last.get(pid) else None,
            }
            for value, qty, cost, pid, name, uom in top
        ],
        "truncated": len(lines) > limit,
        "totals": {
            "products": len(lines),
            "value": currency.round(sum(line[0] for line in lines)),
            "on_hand": [{"uom": uom, "quantity": rnd(qty)} for uom, qty in sorted(quantities.items())],
        },
    }


def _rounder(env):
    from odoo.tools import float_round

    digits = env["decimal.precision"].precision_get("Product Unit")
    return lambda value: float_round(value or 0.0, precision_digits=digits)


# === MEASURE === #


def measure(env, tool_name, args, baseline, runs):
    from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

    spec = CATALOGUE.get(tool_name)
    keys = ("rows", "truncated", "totals")
    handler_times, sql_times = [], []
    for _ in range(runs):
        env.invalidate_all()
        started = time.perf_counter()
        result = OdooToolContext(env).invoke(spec.handler, dict(args), timeout=spec.timeout)
        handler_times.append(time.perf_counter() - started)
        env.invalidate_all()
        started = time.perf_counter()
        expected = baseline()
        sql_times.append(time.perf_counter() - started)
        assert {key: result[key] for key in keys} == expected, (tool_name, args, result, expected)
    return median_ms(handler_times), median_ms(sql_times), result


def main():
    parser = command_line(__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with superuser_env(args) as env:
        started = time.perf_counter()
        ensure_data(env)
        print(f"data ready in {time.perf_counter() - started:.1f} s")
        admin = env.ref("base.user_admin")
        company = admin.company_id
        env = env(user=admin.id, context={"allowed_company_ids": [company.id]})
        env.cr.execute("SELECT count(*) FROM stock_move")
        moves = env.cr.fetchone()[0]
        env.cr.execute("SELECT count(*) FROM stock_quant")
        quants = env.cr.fetchone()[0]
        cases = [
            (
                "GetStockLevels, per product and warehouse, top 20",
                "warehouse.get_stock_levels",
                {"group_by": "product_warehouse", "limit": 20},
                lambda: sql_stock_levels(env, 20),
            ),
            (
                "GetSlowMovingStock, 180 days, top 20",
                "warehouse.get_slow_moving_stock",
                {"days": 180, "limit": 20},
                lambda: sql_slow_moving(env, 180, 20),
            ),
            (
                "GetSlowMovingStock, 30 days, top 20",
                "warehouse.get_slow_moving_stock",
                {"days": 30, "limit": 20},
                lambda: sql_slow_moving(env, 30, 20),
            ),
        ]
        lines = []
        for label, tool_name, tool_args, baseline in cases:
            measure(env, tool_name, tool_args, baseline, 2)  # warm-up
            handler_ms, sql_ms, result = measure(env, tool_name, tool_args, baseline, args.runs)
            detail = f"{len(result['rows'])} rows"
            if "products" in result["totals"]:
                detail = f"{result['totals']['products']} slow products"
            ratio = handler_ms / sql_ms
            lines.append(f"| {label} | {detail} | {handler_ms:.1f} | {sql_ms:.1f} | {ratio:.2f}x | ≤ 1.5x |")
        env.cr.rollback()
    print(f"{moves} stock moves, {quants} quants; median of {args.runs} runs")
    print("| measure | result | handler (ms) | hand-written SQL (ms) | ratio | goal |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
