"""The Sales agent's manager tools over large data: GetQuotationsPipeline, GetInvoicingStatus,
GetSalesByProduct, GetRevenueByCampaign, GetLostReasons and GetOverdueActivities against
hand-written SQL, measured in the same run and checked to give the same figures.

Run with the interpreter that imports Odoo 19, on the scratch database of
``bench/sales_marketing_tools.py`` (this script makes its company and data first when they are
missing, then adds its own on top, once):

    odoo-bin -c /path/to/odoo.conf -d aia_sm_bench -i ai_agents_sales_marketing --stop-after-init
    python bench/sales_manager_tools.py -c /path/to/odoo.conf -d aia_sm_bench [--rows 200000]

Data added to the company "SM Bench" of ``sales_marketing_tools.py`` (``--rows`` leads and orders):

- two lines per order (60 % and 40 % of its untaxed amount) over 200 products in 12 categories,
  each with a cost in the company; one line in twelve in dozens; confirmed orders one in four fully
  invoiced, one in four half invoiced, the rest to invoice (the orders' invoice status to match);
- the quotations half sent, with expiration dates from 20 days ago to 40 days ahead (some none);
- two orders in three in one of 30 UTM campaigns, with a source (8) and a medium (5);
- the lost leads with one of 6 lost reasons (one in seven without) and a closing date in 2025;
- ``--rows`` / 2 open activities on leads and orders, deadlines from 60 days ago to 30 ahead,
  assigned to the salespeople (a third in UTC+14).

Measured as the bench's sales manager: each tool's handler through ai_core's tool context (as a
session calls it), against the SQL a developer would write for the same answer.
"""

from __future__ import annotations

import datetime as dt
import time

from odoo_bench import command_line, superuser_env
from sales_marketing_tools import close, run_tool, setup, timed_pair

PRODUCTS = 200
CATEGORIES = 12
CAMPAIGNS, SOURCES, MEDIUMS = 30, 8, 5
REASONS = 6
PERIOD = {"date_from": "2025-01-01", "date_to": "2025-12-31"}


# === DATA === #


def extend(env, company, rows):
    """Lines, UTM fields, quotation dates, lost reasons and activities; once."""
    cr = env.cr
    cr.execute("SELECT COUNT(*) FROM sale_order_line WHERE company_id = %s", [company.id])
    if cr.fetchone()[0] == 2 * rows:
        return
    started = time.perf_counter()
    cr.execute("DELETE FROM sale_order_line WHERE company_id = %s", [company.id])
    Category = env["product.category"]
    categories = Category.search([("name", "=like", "Bench category %")])
    for index in range(len(categories), CATEGORIES):
        categories |= Category.create({"name": f"Bench category {index + 1}"})
    Product = env["product.product"].with_company(company)
    products = Product.search([("default_code", "=like", "BENCH-%")], order="id")
    if len(products) < PRODUCTS:
        products |= Product.create(
            [
                {
                    "name": f"Bench product {n}",
                    "default_code": f"BENCH-{n}",
                    "categ_id": categories[n % CATEGORIES].id,
                    "list_price": 10.0 + n,
                }
                for n in range(len(products), PRODUCTS)
            ]
        )
    for n, product in enumerate(products):
        product.standard_price = 3.0 + (n * 7) % 40
    unit, dozen = env.ref("uom.product_uom_unit"), env.ref("uom.product_uom_dozen")
    env.flush_all()
    cr.execute(
        """
        INSERT INTO sale_order_line (order_id, company_id, currency_id, order_partner_id, salesman_id,
                                     state, name, sequence, product_id, product_uom_id, product_uom_qty,
                                     price_unit, discount, price_subtotal, price_tax, price_total,
                                     qty_delivered, qty_invoiced, qty_to_invoice, untaxed_amount_invoiced,
                                     untaxed_amount_to_invoice, invoice_status, customer_lead,
                                     is_downpayment, create_uid, write_uid, create_date, write_date)
        SELECT o.id, o.company_id, o.currency_id, o.partner_id, o.user_id, o.state, 'Bench line',
               part, product, CASE WHEN (o.id + part) %% 12 = 0 THEN %(dozen)s ELSE %(unit)s END, qty,
               ROUND(subtotal / qty, 6), 0, subtotal, ROUND(subtotal * 0.21, 2), ROUND(subtotal * 1.21, 2),
               0, 0, 0,
               CASE WHEN o.state <> 'sale' THEN 0 WHEN o.id %% 4 = 0 THEN subtotal
                    WHEN o.id %% 4 = 1 THEN ROUND(subtotal / 2, 2) ELSE 0 END,
               CASE WHEN o.state <> 'sale' THEN 0 WHEN o.id %% 4 = 0 THEN 0
                    WHEN o.id %% 4 = 1 THEN subtotal - ROUND(subtotal / 2, 2) ELSE subtotal END,
               CASE WHEN o.state <> 'sale' THEN 'no' WHEN o.id %% 4 = 0 THEN 'invoiced' ELSE 'to invoice' END,
               0, FALSE, 1, 1, now(), now()
          FROM sale_order o
         CROSS JOIN generate_series(1, 2) part
         CROSS JOIN LATERAL (
               SELECT (%(products)s::int[])[1 + (o.id * 13 + part * 7) %% cardinality(%(products)s::int[])]
                          AS product,
                      1 + (o.id + part) %% 5 AS qty,
                      ROUND(o.amount_untaxed * CASE part WHEN 1 THEN 0.6 ELSE 0.4 END, 2) AS subtotal
         ) l
         WHERE o.company_id = %(company)s
        """,
        {"company": company.id, "products": products.ids, "unit": unit.id, "dozen": dozen.id},
    )
    # Orders match their lines: their untaxed amount is the lines' sum, their status the lines'.
    cr.execute(
        """
        UPDATE sale_order o
           SET amount_untaxed = l.untaxed, amount_tax = l.tax, amount_total = l.total,
               invoice_status = CASE WHEN o.state <> 'sale' THEN 'no'
                                     WHEN o.id %% 4 = 0 THEN 'invoiced' ELSE 'to invoice' END,
               state = CASE WHEN o.state = 'draft' AND o.id %% 2 = 0 THEN 'sent' ELSE o.state END,
               validity_date = CASE WHEN o.state IN ('draft', 'sent') AND o.id %% 9 <> 0
                                    THEN CURRENT_DATE + ((o.id * 11) %% 61 - 20) END
          FROM (SELECT order_id, SUM(price_subtotal) AS untaxed, SUM(price_tax) AS tax,
                       SUM(price_total) AS total
                  FROM sale_order_line GROUP BY order_id) l
         WHERE l.order_id = o.id AND o.company_id = %(company)s
        """,
        {"company": company.id},
    )
    utm = {}
    for kind, count in (("campaign", CAMPAIGNS), ("source", SOURCES), ("medium", MEDIUMS)):
        Model = env[f"utm.{kind}"]
        records = Model.search([("name", "=like", f"Bench {kind} %")], order="id")
        if len(records) < count:
            records |= Model.create([{"name": f"Bench {kind} {n}"} for n in range(len(records), count)])
        utm[kind] = records.ids
    cr.execute(
        """
        UPDATE sale_order
           SET campaign_id = CASE WHEN id %% 3 <> 0
                                  THEN (%(c)s::int[])[1 + id %% cardinality(%(c)s::int[])] END,
               source_id = CASE WHEN id %% 3 <> 0
                                THEN (%(s)s::int[])[1 + id %% cardinality(%(s)s::int[])] END,
               medium_id = CASE WHEN id %% 3 <> 0
                                THEN (%(m)s::int[])[1 + id %% cardinality(%(m)s::int[])] END
         WHERE company_id = %(company)s
        """,
        {"company": company.id, "c": utm["campaign"], "s": utm["source"], "m": utm["medium"]},
    )
    Reason = env["crm.lost.reason"]
    reasons = Reason.search([("name", "=like", "Bench reason %")], order="id")
    if len(reasons) < REASONS:
        reasons |= Reason.create([{"name": f"Bench reason {n}"} for n in range(len(reasons), REASONS)])
    cr.execute(
        """
        UPDATE crm_lead
           SET lost_reason_id = CASE WHEN id %% 7 <> 0
                                     THEN (%(r)s::int[])[1 + id %% cardinality(%(r)s::int[])] END,
               date_closed = TIMESTAMP '2025-01-01 09:00' + (id %% 365) * INTERVAL '1 day'
         WHERE company_id = %(company)s AND won_status = 'lost'
        """,
        {"company": company.id, "r": reasons.ids},
    )
    people = env["res.users"].search([("login", "=like", "sm_bench_seller_%")], order="id")
    for index, person in enumerate(people):
        person.tz = "Pacific/Kiritimati" if index % 3 == 0 else "UTC"
    todo = env.ref("mail.mail_activity_data_todo")
    env.flush_all()
    first = {}
    for table in ("sale_order", "crm_lead"):
        cr.execute(f"SELECT MIN(id) FROM {table} WHERE company_id = %s", [company.id])
        first[table] = cr.fetchone()[0]
    cr.execute(
        "DELETE FROM mail_activity WHERE res_model IN ('crm.lead', 'sale.order') AND summary = 'Bench'"
    )
    cr.execute(
        """
        INSERT INTO mail_activity (res_model_id, res_model, res_id, activity_type_id, user_id, user_tz,
                                   date_deadline, summary, active, automated, create_uid, write_uid,
                                   create_date, write_date)
        SELECT CASE WHEN g %% 3 = 0 THEN %(order_model)s ELSE %(lead_model)s END,
               CASE WHEN g %% 3 = 0 THEN 'sale.order' ELSE 'crm.lead' END,
               doc, %(todo)s, u.id, p.tz, CURRENT_DATE + ((g * 17) %% 91 - 60), 'Bench', TRUE, FALSE,
               1, 1, now(), now()
          FROM generate_series(1, %(count)s) g
         CROSS JOIN LATERAL (
               SELECT CASE WHEN g %% 3 = 0 THEN %(first_order)s ELSE %(first_lead)s END + g %% %(rows)s
                          AS doc,
                      (%(people)s::int[])[1 + (g / 3) %% cardinality(%(people)s::int[])] AS user_id
         ) a
          JOIN res_users u ON u.id = a.user_id
          JOIN res_partner p ON p.id = u.partner_id
        """,
        {
            "order_model": env["ir.model"]._get_id("sale.order"),
            "lead_model": env["ir.model"]._get_id("crm.lead"),
            "todo": todo.id,
            "first_order": first["sale_order"],
            "first_lead": first["crm_lead"],
            "rows": rows,
            "count": rows // 2,
            "people": people.ids,
        },
    )
    for table in ("sale_order", "sale_order_line", "crm_lead", "mail_activity"):
        cr.execute(f"ANALYZE {table}")
    env.invalidate_all()
    print(
        "added lines, UTM fields, quotations, lost reasons and activities in "
        f"{time.perf_counter() - started:.0f} s"
    )


# === HAND-WRITTEN SQL === #


def quotations_sql(env, company, today, horizon):
    env.cr.execute(
        """
        SELECT state,
               CASE WHEN validity_date IS NULL THEN 'no_expiration'
                    WHEN validity_date < %(today)s THEN 'expired'
                    WHEN validity_date <= %(horizon)s THEN 'expiring' ELSE 'valid_later' END,
               COUNT(*), SUM(amount_untaxed / COALESCE(NULLIF(currency_rate, 0), 1)),
               SUM(amount_total / COALESCE(NULLIF(currency_rate, 0), 1))
          FROM sale_order
         WHERE company_id = %(company)s AND state IN ('draft', 'sent')
         GROUP BY 1, 2
        """,
        {"company": company.id, "today": today, "horizon": horizon},
    )
    groups = env.cr.fetchall()
    lists = []
    for where, order in (
        (
            "o.validity_date >= %(today)s AND o.validity_date <= %(horizon)s",
            "o.validity_date, o.amount_total DESC, o.id",
        ),
        ("o.validity_date < %(today)s", "o.validity_date DESC, o.amount_total DESC, o.id"),
    ):
        env.cr.execute(
            f"""
            SELECT o.name, p.name, o.validity_date, o.amount_total / COALESCE(NULLIF(o.currency_rate, 0), 1)
              FROM sale_order o JOIN res_partner p ON p.id = o.partner_id
             WHERE o.company_id = %(company)s AND o.state IN ('draft', 'sent') AND {where}
             ORDER BY {order} LIMIT 10
            """,
            {"company": company.id, "today": today, "horizon": horizon},
        )
        lists.append(env.cr.fetchall())
    return groups, lists


def quotations_figures_sql(result):
    groups, (expiring, expired) = result
    by_bucket = {}
    for _state, bucket, count, _untaxed, total in groups:
        figures = by_bucket.setdefault(bucket, [0, 0.0])
        figures[0] += count
        figures[1] += float(total)
    return (
        {bucket: (count, round(total, 2)) for bucket, (count, total) in by_bucket.items()},
        [row[0] for row in expiring],
        [row[0] for row in expired],
    )


def quotations_figures_tool(result):
    return (
        {
            bucket: (figures["quotations"], figures["amount_total"])
            for bucket, figures in result["by_expiration"].items()
            if figures["quotations"]
        },
        [row["quotation"] for row in result["expiring"]],
        [row["quotation"] for row in result["expired"]],
    )


def invoicing_sql(env, company):
    """One pass over the lines, summed per order, then per invoice status and the top 10."""
    env.cr.execute(
        """
        WITH per_order AS MATERIALIZED (
            SELECT l.order_id, o.invoice_status,
                   SUM(l.price_subtotal / COALESCE(NULLIF(o.currency_rate, 0), 1)) AS ordered,
                   SUM(l.untaxed_amount_invoiced / COALESCE(NULLIF(o.currency_rate, 0), 1)) AS invoiced,
                   SUM(l.untaxed_amount_to_invoice / COALESCE(NULLIF(o.currency_rate, 0), 1)) AS to_invoice
              FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id
             WHERE o.company_id = %(company)s AND o.state = 'sale' AND l.display_type IS NULL
               AND l.product_id IS NOT NULL
             GROUP BY l.order_id, o.invoice_status
        )
        (SELECT 'status', invoice_status, COUNT(*), SUM(ordered), SUM(invoiced), SUM(to_invoice)
           FROM per_order GROUP BY invoice_status)
        UNION ALL
        (SELECT 'order', NULL, order_id, ordered, invoiced, to_invoice
           FROM per_order WHERE to_invoice > 0 ORDER BY to_invoice DESC, order_id LIMIT 10)
        """,
        {"company": company.id},
    )
    rows = env.cr.fetchall()
    groups = [row[1:] for row in rows if row[0] == "status"]
    top = [(row[2], row[5]) for row in rows if row[0] == "order"]
    return groups, top


def invoicing_figures_sql(result):
    groups, top = result
    return (
        {status: tuple(round(float(v), 2) if i else v for i, v in enumerate(row)) for status, *row in groups},
        [order_id for order_id, _due in top],
    )


def invoicing_figures_tool(env, result):
    labels = dict(env["sale.order"]._fields["invoice_status"]._description_selection(env))
    codes = {label: code for code, label in labels.items()}
    return (
        {
            codes[row["invoice_status"]]: (
                row["orders"],
                row["amount_untaxed"],
                row["invoiced"],
                row["to_invoice"],
            )
            for row in result["by_invoice_status"]
        },
        [row["order_id"] for row in result["orders_to_invoice"]],
    )


def products_sql(env, company, date_from, date_to):
    start = dt.datetime.fromisoformat(date_from)
    end = dt.datetime.fromisoformat(date_to) + dt.timedelta(days=1)
    env.cr.execute(
        """
        SELECT l.product_id, t.categ_id,
               SUM(l.product_uom_qty * lu.factor / pu.factor) AS qty,
               COUNT(DISTINCT l.order_id),
               SUM(l.price_subtotal / COALESCE(NULLIF(o.currency_rate, 0), 1)) AS revenue,
               SUM(l.product_uom_qty * lu.factor / pu.factor)
                   * COALESCE((p.standard_price ->> %(company)s::text)::numeric, 0) AS cost
          FROM sale_order_line l
          JOIN sale_order o ON o.id = l.order_id
          JOIN product_product p ON p.id = l.product_id
          JOIN product_template t ON t.id = p.product_tmpl_id
          JOIN uom_uom lu ON lu.id = l.product_uom_id
          JOIN uom_uom pu ON pu.id = t.uom_id
         WHERE o.company_id = %(company)s AND o.state = 'sale' AND l.display_type IS NULL
           AND o.date_order >= %(start)s AND o.date_order < %(end)s
         GROUP BY l.product_id, t.categ_id, p.standard_price
         ORDER BY revenue DESC, l.product_id
        """,
        {"company": company.id, "start": start, "end": end},
    )
    return env.cr.fetchall()


def products_figures_sql(rows):
    return [(row[0], round(float(row[4]), 2), round(float(row[5]), 2)) for row in rows[:20]]


def products_figures_tool(result):
    return [(row["product_id"], row["revenue"], row["cost"]) for row in result["products"]]


def campaigns_sql(env, company, date_from, date_to):
    start = dt.datetime.fromisoformat(date_from)
    end = dt.datetime.fromisoformat(date_to) + dt.timedelta(days=1)
    env.cr.execute(
        """
        SELECT GROUPING(campaign_id, source_id, medium_id), campaign_id, source_id, medium_id, COUNT(*),
               SUM(amount_untaxed / COALESCE(NULLIF(currency_rate, 0), 1))
          FROM sale_order
         WHERE company_id = %(company)s AND state = 'sale'
           AND date_order >= %(start)s AND date_order < %(end)s
         GROUP BY GROUPING SETS ((campaign_id), (source_id), (medium_id), ())
        """,
        {"company": company.id, "start": start, "end": end},
    )
    return env.cr.fetchall()


def campaigns_figures_sql(rows):
    keys = {0b011: ("campaign", 1), 0b101: ("source", 2), 0b110: ("medium", 3)}
    figures = {"campaign": {}, "source": {}, "medium": {}}
    for row in rows:
        if row[0] == 0b111:
            continue
        key, index = keys[row[0]]
        figures[key][row[index]] = (row[4], round(float(row[5]), 2))
    return figures


def campaigns_figures_tool(result):
    return {
        key: {row[f"{key}_id"]: (row["orders"], row["revenue"]) for row in result[f"by_{key}"]}
        for key in ("campaign", "source", "medium")
    }


def lost_sql(env, company, date_from, date_to):
    start = dt.datetime.fromisoformat(date_from)
    end = dt.datetime.fromisoformat(date_to) + dt.timedelta(days=1)
    env.cr.execute(
        """
        SELECT GROUPING(lost_reason_id, user_id), lost_reason_id, user_id, COUNT(*), SUM(expected_revenue)
          FROM crm_lead
         WHERE (company_id = %(company)s OR company_id IS NULL) AND won_status = 'lost'
           AND date_closed >= %(start)s AND date_closed < %(end)s
         GROUP BY GROUPING SETS ((lost_reason_id), (user_id), ())
        """,
        {"company": company.id, "start": start, "end": end},
    )
    return env.cr.fetchall()


def lost_figures_sql(env, rows):
    reasons = {row[1]: (row[3], round(float(row[4]), 2)) for row in rows if row[0] == 0b01}
    names = {r.id: r.name for r in env["crm.lost.reason"].browse(k for k in reasons if k)}
    total = next((row[3], round(float(row[4]), 2)) for row in rows if row[0] == 0b11)
    return {names.get(k, "No reason"): v for k, v in reasons.items()}, total


def lost_figures_tool(result):
    return (
        {row["reason"]: (row["lost"], row["expected_revenue"]) for row in result["by_reason"]},
        (result["totals"]["lost"], result["totals"]["expected_revenue"]),
    )


def activities_sql(env, company):
    env.cr.execute(
        """
        WITH overdue AS (
            SELECT a.id, a.user_id, a.res_model, a.date_deadline,
                   (now() AT TIME ZONE COALESCE(a.user_tz, 'UTC'))::date - a.date_deadline
                       AS days_late
              FROM mail_activity a
             WHERE a.active
               AND ((a.res_model = 'crm.lead' AND a.res_id IN (
                         SELECT id FROM crm_lead
                          WHERE active AND (company_id = %(company)s OR company_id IS NULL)))
                    OR (a.res_model = 'sale.order' AND a.res_id IN (
                         SELECT id FROM sale_order WHERE company_id = %(company)s)))
        )
        SELECT user_id, GROUPING(user_id), COUNT(*), COUNT(*) FILTER (WHERE res_model = 'crm.lead'),
               COUNT(*) FILTER (WHERE res_model = 'sale.order'), MIN(date_deadline), MAX(days_late)
          FROM overdue WHERE days_late > 0
         GROUP BY GROUPING SETS ((user_id), ())
        """,
        {"company": company.id},
    )
    groups = env.cr.fetchall()
    env.cr.execute(
        """
        SELECT a.id FROM mail_activity a
         WHERE a.active
           AND ((a.res_model = 'crm.lead' AND a.res_id IN (
                     SELECT id FROM crm_lead
                      WHERE active AND (company_id = %(company)s OR company_id IS NULL)))
                OR (a.res_model = 'sale.order' AND a.res_id IN (
                     SELECT id FROM sale_order WHERE company_id = %(company)s)))
           AND (now() AT TIME ZONE COALESCE(a.user_tz, 'UTC'))::date > a.date_deadline
         ORDER BY (now() AT TIME ZONE COALESCE(a.user_tz, 'UTC'))::date
                  - a.date_deadline DESC, a.id
         LIMIT 10
        """,
        {"company": company.id},
    )
    return groups, env.cr.fetchall()


def activities_figures_sql(result):
    groups, _oldest = result
    total = next(row for row in groups if row[1])
    return total[2], total[3], total[4], str(total[5])


def activities_figures_tool(result):
    totals = result["totals"]
    return totals["overdue"], totals["on_leads"], totals["on_orders"], totals["oldest_deadline"]


def main():
    parser = command_line(__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=11, help="runs of each tool and of its SQL (median)")
    parser.add_argument("--tools", help="comma-separated tool names to measure (default: all)")
    args = parser.parse_args()

    with superuser_env(args) as env:
        company, user = setup(env, args.rows)
        extend(env, company, args.rows)
        env.cr.commit()
        today = dt.date.today()
        horizon = today + dt.timedelta(days=7)
        cases = [
            (
                "GetQuotationsPipeline",
                "open quotations, expiring in 7 days",
                lambda: run_tool(env, company, user, "sales.get_quotations_pipeline", {}),
                lambda: quotations_sql(env, company, today, horizon),
                quotations_figures_tool,
                quotations_figures_sql,
                lambda r: f"{r['totals']['quotations']:,} quotations",
            ),
            (
                "GetInvoicingStatus",
                "all confirmed orders",
                lambda: run_tool(env, company, user, "sales.get_invoicing_status", {}),
                lambda: invoicing_sql(env, company),
                lambda r: invoicing_figures_tool(env, r),
                invoicing_figures_sql,
                lambda r: f"{r['totals']['orders']:,} orders, {2 * r['totals']['orders']:,} lines",
            ),
            (
                "GetSalesByProduct",
                "year 2025",
                lambda: run_tool(env, company, user, "sales.get_sales_by_product", {**PERIOD, "limit": 20}),
                lambda: products_sql(env, company, PERIOD["date_from"], PERIOD["date_to"]),
                products_figures_tool,
                products_figures_sql,
                lambda r: f"{r['totals']['orders']:,} orders, {r['totals']['products']} products",
            ),
            (
                "GetRevenueByCampaign",
                "year 2025",
                lambda: run_tool(
                    env, company, user, "sales.get_revenue_by_campaign", {**PERIOD, "limit": 100}
                ),
                lambda: campaigns_sql(env, company, PERIOD["date_from"], PERIOD["date_to"]),
                campaigns_figures_tool,
                campaigns_figures_sql,
                lambda r: f"{r['totals']['orders']:,} orders",
            ),
            (
                "GetLostReasons",
                "year 2025",
                lambda: run_tool(env, company, user, "sales.get_lost_reasons", {**PERIOD, "limit": 100}),
                lambda: lost_sql(env, company, PERIOD["date_from"], PERIOD["date_to"]),
                lost_figures_tool,
                lambda rows: lost_figures_sql(env, rows),
                lambda r: f"{r['totals']['lost']:,} lost leads",
            ),
            (
                "GetOverdueActivities",
                "open activities today",
                lambda: run_tool(env, company, user, "sales.get_overdue_activities", {}),
                lambda: activities_sql(env, company),
                activities_figures_tool,
                activities_figures_sql,
                lambda r: f"{r['totals']['overdue']:,} overdue activities",
            ),
        ]
        if args.tools:
            cases = [case for case in cases if case[0] in args.tools.split(",")]
        table = []
        for name, question, tool_call, sql_call, from_tool, from_sql, size in cases:
            tool_s, tool, sql_s, sql = timed_pair(tool_call, sql_call, args.runs, env)
            assert close(from_tool(tool), from_sql(sql)), f"{name} != SQL: {from_tool(tool)} {from_sql(sql)}"
            table.append((name, question, size(tool), tool_s, sql_s))
        env.cr.rollback()
    print(
        f"{args.rows:,} leads and {args.rows:,} sales orders ({2 * args.rows:,} lines, {args.rows // 2:,} "
        f"activities) in the bench company; median of {args.runs} runs; the tools and the SQL agree"
    )
    print("| tool | question | rows aggregated | tool (ms) | hand-written SQL (ms) | tool / SQL |")
    print("|---|---|---|---|---|---|")
    for name, question, rows, tool_s, sql_s in table:
        print(
            f"| {name} | {question} | {rows} | {tool_s * 1000:.0f} | {sql_s * 1000:.0f} | "
            f"{tool_s / sql_s:.2f}x |"
        )


if __name__ == "__main__":
    main()
