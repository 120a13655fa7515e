"""GetPipelineValue over 200 k leads and GetTopCustomers over 200 k sales orders: the tools against
hand-written SQL, measured in the same run and checked to give the same figures.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_agents_sales_marketing
installed (the benchmark commits a company with its generated data there, and reuses it on the
next run):

    odoo-bin -c /path/to/odoo.conf -d aia_sm_bench -i ai_agents_sales_marketing --stop-after-init
    python bench/sales_marketing_tools.py -c /path/to/odoo.conf -d aia_sm_bench [--rows 200000]

Data, inserted with ``INSERT ... SELECT generate_series`` in a company "SM Bench" (USD):

- ``--rows`` crm.lead rows over 6 sales teams and 24 salespeople (1 in 20 unassigned), the four
  stages of Odoo's default pipeline: 80 % opportunities, 20 % leads; 10 % won, 10 % lost
  (archived); expected revenue 100 to 100 000, probability 5 to 95 %.
- ``--rows`` sale.order rows dated 2024-01-01 to 2025-12-31 for 4 000 customer companies and
  2 000 of their contacts: 85 % confirmed, 10 % quotations, 5 % cancelled; one in twenty in EUR
  at the rate 0.8 stored on the order.

Measured as a user with Sales / Administrator rights in that company:

1. the ``sales.get_pipeline_value`` and ``sales.get_top_customers`` handlers through ai_core's
   tool context (as a session calls them);
2. baseline: the SQL a developer would write for the same answer: one ``GROUP BY GROUPING SETS``
   over the open opportunities; one pass over both periods' confirmed orders grouped by
   commercial entity (``FILTER`` per period, window sums for the totals, ``ORDER BY ... LIMIT``).
"""

from __future__ import annotations

import statistics
import time

from odoo_bench import command_line, superuser_env

COMPANY = "SM Bench"
LOGIN = "sm_bench_manager"
TEAMS = 6
SALESPEOPLE = 24
CUSTOMERS = 4000
CONTACTS = 2000
PERIODS = (("last 90 days of 2025", "2025-10-03", "2025-12-31"), ("year 2025", "2025-01-01", "2025-12-31"))
TOP = 20


def setup(env, rows):
    """The bench company, its sales manager, teams, people, customers and ``rows`` leads and
    orders; reused when present."""
    company = env["res.company"].search([("name", "=", COMPANY)], limit=1)
    if not company:
        company = env["res.company"].create({"name": COMPANY, "currency_id": env.ref("base.USD").id})
    user = env["res.users"].search([("login", "=", LOGIN)], limit=1)
    if not user:
        user = env["res.users"].create(
            {
                "name": "SM bench manager",
                "login": LOGIN,
                "tz": "UTC",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "group_ids": [(6, 0, [env.ref("sales_team.group_sale_manager").id])],
            }
        )
    cr = env.cr
    cr.execute("SELECT COUNT(*) FROM crm_lead WHERE company_id = %s", [company.id])
    leads = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM sale_order WHERE company_id = %s", [company.id])
    orders = cr.fetchone()[0]
    if (leads, orders) != (rows, rows):
        generate(env, company, rows)
    env.cr.commit()
    return company, user


def generate(env, company, rows):
    started = time.perf_counter()
    cr = env.cr
    cr.execute("DELETE FROM sale_order WHERE company_id = %s", [company.id])
    cr.execute("DELETE FROM crm_lead WHERE company_id = %s", [company.id])
    teams = env["crm.team"].search([("company_id", "=", company.id)])
    for index in range(len(teams), TEAMS):
        teams |= env["crm.team"].create({"name": f"Bench team {index + 1}", "company_id": company.id})
    people = env["res.users"].search([("login", "=like", "sm_bench_seller_%")])
    for index in range(len(people), SALESPEOPLE):
        people |= env["res.users"].create(
            {
                "name": f"Bench seller {index + 1}",
                "login": f"sm_bench_seller_{index + 1}",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "group_ids": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])],
            }
        )
    stages = [env.ref(f"crm.stage_lead{n}").id for n in (1, 2, 3)]
    won_stage = env.ref("crm.stage_lead4").id
    cr.execute(
        """
        INSERT INTO crm_lead (name, type, active, company_id, team_id, user_id, stage_id, won_status,
                              expected_revenue, probability, automated_probability, prorated_revenue,
                              priority, create_uid, write_uid, create_date, write_date)
        SELECT 'Bench ' || g,
               CASE WHEN g %% 5 = 0 THEN 'lead' ELSE 'opportunity' END,
               g %% 10 <> 3,
               %(company)s,
               (%(teams)s::int[])[1 + g %% cardinality(%(teams)s::int[])],
               CASE WHEN g %% 20 = 7 THEN NULL
                    ELSE (%(people)s::int[])[1 + (g / 7) %% cardinality(%(people)s::int[])] END,
               CASE WHEN g %% 10 = 1 THEN %(won)s
                    ELSE (%(stages)s::int[])[1 + (g / 3) %% cardinality(%(stages)s::int[])] END,
               CASE WHEN g %% 10 = 1 THEN 'won' WHEN g %% 10 = 3 THEN 'lost' ELSE 'pending' END,
               revenue, probability, probability, ROUND(revenue * probability / 100, 2),
               '0', 1, 1, now(), now()
          FROM generate_series(1, %(rows)s) g
         CROSS JOIN LATERAL (
               SELECT ((g::bigint * 7919) %% 99901 + 100)::numeric AS revenue,
                      CASE WHEN g %% 10 = 1 THEN 100 WHEN g %% 10 = 3 THEN 0
                           ELSE 5 + (g * 13) %% 91 END AS probability
         ) figures
        """,
        {
            "company": company.id,
            "teams": teams.ids,
            "people": people.ids,
            "stages": stages,
            "won": won_stage,
            "rows": rows,
        },
    )
    Partner = env["res.partner"]
    customers = Partner.search([("name", "=like", "Bench customer %"), ("is_company", "=", True)])
    if len(customers) < CUSTOMERS:
        customers |= Partner.create(
            [{"name": f"Bench customer {n}", "is_company": True} for n in range(len(customers), CUSTOMERS)]
        )
    contacts = Partner.search([("name", "=like", "Bench contact %")])
    if len(contacts) < CONTACTS:
        contacts |= Partner.create(
            [
                {"name": f"Bench contact {n}", "parent_id": customers[n % CUSTOMERS].id}
                for n in range(len(contacts), CONTACTS)
            ]
        )
    eur = env.ref("base.EUR")
    eur.active = True
    env.flush_all()
    cr.execute(
        """
        INSERT INTO sale_order (name, company_id, partner_id, partner_invoice_id, partner_shipping_id,
                                state, date_order, currency_id, currency_rate, amount_untaxed, amount_tax,
                                amount_total, team_id, user_id, locked, create_uid, write_uid, create_date,
                                write_date)
        SELECT 'BENCH/' || g, %(company)s, partner, partner, partner,
               CASE WHEN g %% 20 IN (2, 12) THEN 'draft' WHEN g %% 20 = 5 THEN 'cancel' ELSE 'sale' END,
               TIMESTAMP '2024-01-01 08:00' + ((g * 7) %% 731) * INTERVAL '1 day'
                   + (g %% 600) * INTERVAL '1 minute',
               CASE WHEN g %% 20 = 9 THEN %(eur)s ELSE %(usd)s END,
               CASE WHEN g %% 20 = 9 THEN 0.8 ELSE 1.0 END,
               amount, ROUND(amount * 0.21, 2), ROUND(amount * 1.21, 2),
               (%(teams)s::int[])[1 + g %% cardinality(%(teams)s::int[])],
               (%(people)s::int[])[1 + g %% cardinality(%(people)s::int[])],
               FALSE, 1, 1, now(), now()
          FROM generate_series(1, %(rows)s) g
         CROSS JOIN LATERAL (
               SELECT (%(partners)s::int[])[1 + (g::bigint * 31) %% cardinality(%(partners)s::int[])]
                          AS partner,
                      ((g::bigint * 104729) %% 500000) / 100.0 + 10 AS amount
         ) o
        """,
        {
            "company": company.id,
            "partners": customers.ids + contacts.ids,
            "eur": eur.id,
            "usd": company.currency_id.id,
            "teams": teams.ids,
            "people": people.ids,
            "rows": rows,
        },
    )
    cr.execute("ANALYZE crm_lead")
    cr.execute("ANALYZE sale_order")
    cr.execute("ANALYZE res_partner")
    print(f"generated {rows} leads and {rows} sales orders in {time.perf_counter() - started:.0f} s")


def user_env(env, company, user):
    return env(user=user.id, context={"allowed_company_ids": [company.id], "tz": "UTC"})


def run_tool(env, company, user, name, arguments):
    from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

    spec = CATALOGUE.get(name)
    return OdooToolContext(user_env(env, company, user)).invoke(spec.handler, arguments, timeout=spec.timeout)


# === GetPipelineValue === #


def pipeline_sql(env, company):
    env.cr.execute(
        """
        SELECT GROUPING(stage_id, team_id, user_id), stage_id, team_id, user_id,
               COUNT(*), SUM(expected_revenue), SUM(prorated_revenue)
          FROM crm_lead
         WHERE (company_id = %s OR company_id IS NULL) AND active AND type = 'opportunity'
           AND won_status = 'pending'
         GROUP BY GROUPING SETS ((stage_id), (team_id), (user_id), ())
        """,
        [company.id],
    )
    return env.cr.fetchall()


def pipeline_figures_sql(env, rows):
    """The SQL rows as {breakdown: {record name: (count, expected, weighted)}}."""
    names = {
        "stage": env["crm.stage"].browse(r[1] for r in rows if r[1]),
        "team": env["crm.team"].browse(r[2] for r in rows if r[2]),
        "salesperson": env["res.users"].browse(r[3] for r in rows if r[3]),
    }
    figures = {"stage": {}, "team": {}, "salesperson": {}, "total": {}}
    # GROUPING() bits (stage, team, user): 0 where the column is grouped.
    masks = {
        0b011: ("stage", 1, "No stage"),
        0b101: ("team", 2, "No team"),
        0b110: ("salesperson", 3, "Unassigned"),
    }
    for row in rows:
        values = (row[4], round(float(row[5]), 2), round(float(row[6]), 2))
        if row[0] == 0b111:
            figures["total"]["all"] = values
            continue
        key, index, empty = masks[row[0]]
        record = names[key].browse(row[index]) if row[index] else None
        figures[key][record.display_name if record else empty] = values
    return figures


def pipeline_figures_tool(result):
    figures = {
        "total": {
            "all": tuple(
                result["totals"][k] for k in ("opportunities", "expected_revenue", "weighted_revenue")
            )
        }
    }
    for key in ("stage", "team", "salesperson"):
        figures[key] = {
            row[key]: (row["opportunities"], row["expected_revenue"], row["weighted_revenue"])
            for row in result[f"by_{key}"]
        }
    return figures


# === GetTopCustomers === #


def top_customers_sql(env, company, date_from, date_to):
    import datetime as dt

    start = dt.datetime.fromisoformat(date_from)
    end = dt.datetime.fromisoformat(date_to) + dt.timedelta(days=1)
    previous_start = start - (end - start)
    env.cr.execute(
        """
        WITH per_customer AS (
            SELECT p.commercial_partner_id AS customer,
                   SUM(o.amount_untaxed / COALESCE(NULLIF(o.currency_rate, 0), 1))
                       FILTER (WHERE o.date_order >= %(start)s) AS revenue,
                   COUNT(*) FILTER (WHERE o.date_order >= %(start)s) AS orders,
                   SUM(o.amount_untaxed / COALESCE(NULLIF(o.currency_rate, 0), 1))
                       FILTER (WHERE o.date_order < %(start)s) AS previous_revenue,
                   COUNT(*) FILTER (WHERE o.date_order < %(start)s) AS previous_orders
              FROM sale_order o
              JOIN res_partner p ON p.id = o.partner_id
             WHERE o.company_id = %(company)s AND o.state = 'sale'
               AND o.date_order >= %(previous_start)s AND o.date_order < %(end)s
             GROUP BY p.commercial_partner_id
        )
        SELECT customer, revenue, orders, previous_revenue, previous_orders,
               SUM(revenue) OVER (), SUM(orders) OVER (), COUNT(revenue) OVER (),
               SUM(previous_revenue) OVER ()
          FROM per_customer
         ORDER BY revenue DESC NULLS LAST, customer
         LIMIT %(limit)s
        """,
        {"company": company.id, "start": start, "end": end, "previous_start": previous_start, "limit": TOP},
    )
    return env.cr.fetchall()


def top_figures_sql(rows):
    customers = [
        (customer, round(float(revenue), 2), orders, round(float(previous or 0), 2), previous_orders)
        for customer, revenue, orders, previous, previous_orders, *_totals in rows
    ]
    _c, _r, _o, _p, _po, revenue, orders, count, previous = rows[0]
    return customers, (round(float(revenue), 2), orders, count, round(float(previous), 2))


def top_figures_tool(result):
    customers = [
        (row["customer_id"], row["revenue"], row["orders"], row["previous_revenue"], row["previous_orders"])
        for row in result["customers"]
    ]
    totals = result["totals"]
    return customers, (totals["revenue"], totals["orders"], totals["customers"], totals["previous_revenue"])


def close(a, b):
    """Equal up to a cent per amount (float sums in Python against numeric sums in SQL)."""
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 0.011
    return a == b


def timed_pair(tool, sql, runs, env):
    """Medians of ``runs`` runs of ``tool`` and of ``sql``, interleaved (in alternating order) so
    that the load of the machine weighs on both alike; ORM caches cleared before each run."""
    samples = {"tool": [], "sql": []}
    results = {}
    for run in range(runs):
        order = (("tool", tool), ("sql", sql)) if run % 2 == 0 else (("sql", sql), ("tool", tool))
        for key, function in order:
            env.invalidate_all()
            started = time.perf_counter()
            results[key] = function()
            samples[key].append(time.perf_counter() - started)
    return (
        statistics.median(samples["tool"]),
        results["tool"],
        statistics.median(samples["sql"]),
        results["sql"],
    )


def main():
    parser = command_line(__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=11, help="runs of each tool and of its SQL (median)")
    args = parser.parse_args()

    with superuser_env(args) as env:
        company, user = setup(env, args.rows)
        table = []

        tool_s, tool, sql_s, sql = timed_pair(
            lambda: run_tool(env, company, user, "sales.get_pipeline_value", {"limit": 100}),
            lambda: pipeline_sql(env, company),
            args.runs,
            env,
        )
        assert not tool["truncated"]
        assert close(pipeline_figures_tool(tool), pipeline_figures_sql(env, sql)), "GetPipelineValue != SQL"
        table.append(
            (
                "GetPipelineValue",
                "open pipeline",
                f"{tool['totals']['opportunities']:,} opportunities",
                tool_s,
                sql_s,
            )
        )

        for label, date_from, date_to in PERIODS:
            arguments = {"date_from": date_from, "date_to": date_to, "limit": TOP}
            tool_s, tool, sql_s, sql = timed_pair(
                lambda a=arguments: run_tool(env, company, user, "sales.get_top_customers", a),
                lambda f=date_from, t=date_to: top_customers_sql(env, company, f, t),
                args.runs,
                env,
            )
            assert close(top_figures_tool(tool), top_figures_sql(sql)), f"GetTopCustomers != SQL ({label})"
            orders = f"{tool['totals']['orders']:,} orders, {tool['totals']['customers']:,} customers"
            table.append(("GetTopCustomers", label, orders, tool_s, sql_s))
        env.cr.rollback()
    print(
        f"{args.rows:,} leads and {args.rows:,} sales orders in the bench company; "
        f"median of {args.runs} runs; the tools and the SQL agree on every figure"
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
