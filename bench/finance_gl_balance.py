"""GetGLBalance over 1 M journal items: the tool against a hand-written SQL GROUP BY and against
search_read + a Python sum, all three measured in the same run and checked to agree.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_agents_finance
installed (the benchmark commits a company with its generated books there, and reuses them on
the next run):

    odoo-bin -c /path/to/odoo.conf -d aia_fin_bench -i ai_agents_finance --stop-after-init
    python bench/finance_gl_balance.py -c /path/to/odoo.conf -d aia_fin_bench [--lines 1000000]

Data: a company "GL Bench" with Odoo's generic chart of accounts; ``--lines / 2`` two-line
entries (one debit, one credit line on accounts spread over the chart) dated 2020-2023, one in
twenty left in draft, inserted with ``INSERT ... SELECT generate_series``.

Measured as a user with the Accounting read-only right, in that company:

1. the ``finance.get_gl_balance`` handler through ai_core's tool context (as a session calls it);
2. baseline: the SQL a developer would write, ``SELECT account_id, SUM(debit), SUM(credit),
   SUM(balance) ... GROUP BY account_id``, same filters;
3. the naive way: ``search_read`` of the journal items and a Python sum per account.

Two periods: everything as of 2023-12-31 (every posted item), and the year 2022.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

from odoo_bench import command_line, superuser_env

COMPANY = "GL Bench"
PERIODS = (("as of 2023-12-31", None, "2023-12-31"), ("year 2022", "2022-01-01", "2022-12-31"))


def setup(env, lines):
    """The bench company, its accountant and ``lines`` journal items; reused when present."""
    company = env["res.company"].search([("name", "=", COMPANY)], limit=1)
    if not company:
        company = env["res.company"].create({"name": COMPANY})
        env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    user = env["res.users"].search([("login", "=", "gl_bench_accountant")], limit=1)
    if not user:
        user = env["res.users"].create(
            {
                "name": "GL bench accountant",
                "login": "gl_bench_accountant",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "group_ids": [(6, 0, [env.ref("account.group_account_readonly").id])],
            }
        )
    env.cr.execute("SELECT COUNT(*) FROM account_move_line WHERE company_id = %s", [company.id])
    existing = env.cr.fetchone()[0]
    if existing != lines:
        generate(env, company, lines)
    env.cr.commit()
    return company, user


def generate(env, company, lines):
    started = time.perf_counter()
    cr = env.cr
    cr.execute("DELETE FROM account_move WHERE company_id = %s", [company.id])
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "general")], limit=1
    )
    accounts = env["account.account"].search([*env["account.account"]._check_company_domain(company)]).ids
    currency = company.currency_id.id
    cr.execute(
        """
        INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type, auto_post, date,
                                  name, create_uid, write_uid, create_date, write_date)
        SELECT %(journal)s, %(company)s, %(currency)s,
               CASE WHEN g %% 20 = 0 THEN 'draft' ELSE 'posted' END, 'entry', 'no',
               DATE '2020-01-01' + (g %% 1461), 'BENCH/' || g, 1, 1, now(), now()
          FROM generate_series(1, %(moves)s) g
        """,
        {"journal": journal.id, "company": company.id, "currency": currency, "moves": lines // 2},
    )
    cr.execute(
        """
        INSERT INTO account_move_line (move_id, company_id, journal_id, account_id, date, parent_state,
                                       move_name, name, display_type, currency_id, company_currency_id,
                                       debit, credit, balance, amount_currency,
                                       create_uid, write_uid, create_date, write_date)
        SELECT m.id, m.company_id, m.journal_id,
               (%(accounts)s::int[])[1 + (m.id::bigint * (3 + 4 * side)) %% cardinality(%(accounts)s::int[])],
               m.date, m.state, m.name, 'bench', 'product', m.currency_id, m.currency_id,
               CASE WHEN side = 0 THEN amount ELSE 0 END, CASE WHEN side = 1 THEN amount ELSE 0 END,
               CASE WHEN side = 0 THEN amount ELSE -amount END,
               CASE WHEN side = 0 THEN amount ELSE -amount END,
               1, 1, now(), now()
          FROM account_move m
         CROSS JOIN generate_series(0, 1) side
         CROSS JOIN LATERAL (SELECT ((m.id::bigint * 7919) %% 1000000) / 100.0 + 1 AS amount) a
         WHERE m.company_id = %(company)s
        """,
        {"accounts": accounts, "company": company.id},
    )
    cr.execute("ANALYZE account_move")
    cr.execute("ANALYZE account_move_line")
    print(f"generated {lines} journal items in {time.perf_counter() - started:.0f} s")


def by_account(rows):
    return {account: (round(d, 2), round(c, 2), round(b, 2)) for account, d, c, b in rows}


def run_tool(env, company, user, date_from, date_to):
    from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

    spec = CATALOGUE.get("finance.get_gl_balance")
    user_env = env(user=user.id, context={"allowed_company_ids": [company.id]})
    arguments = {"date_to": date_to, "limit": 200, **({"date_from": date_from} if date_from else {})}
    return OdooToolContext(user_env).invoke(spec.handler, arguments, timeout=spec.timeout)


def tool_rows(env, company, result):
    """The tool's rows by account id (outside the timing: only to compare)."""
    assert not result["truncated"]
    accounts = env["account.account"].with_company(company).search([("company_ids", "in", company.id)])
    ids = {account.code: account.id for account in accounts}
    return by_account(
        (ids[row["code"]], row["debit"], row["credit"], row["balance"]) for row in result["accounts"]
    )


def run_sql(env, company, date_from, date_to):
    since = "AND date >= %(date_from)s" if date_from else ""
    env.cr.execute(
        f"""
        SELECT account_id, SUM(debit), SUM(credit), SUM(balance)
          FROM account_move_line
         WHERE company_id = %(company)s AND parent_state = 'posted' AND date <= %(date_to)s {since}
         GROUP BY account_id
        """,
        {"company": company.id, "date_from": date_from, "date_to": date_to},
    )
    return by_account((a, float(d), float(c), float(b)) for a, d, c, b in env.cr.fetchall())


def run_search_read(env, company, user, date_from, date_to):
    user_env = env(user=user.id, context={"allowed_company_ids": [company.id]})
    domain = [("company_id", "=", company.id), ("parent_state", "=", "posted"), ("date", "<=", date_to)]
    if date_from:
        domain.append(("date", ">=", date_from))
    sums = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in user_env["account.move.line"].search_read(
        domain, ["account_id", "debit", "credit", "balance"]
    ):
        total = sums[row["account_id"][0]]
        total[0] += row["debit"]
        total[1] += row["credit"]
        total[2] += row["balance"]
    return by_account((account, *total) for account, total in sums.items())


def timed(functions, runs, env):
    """Median seconds and last result of each function; runs interleaved so that the load of a
    shared machine weighs on all of them alike."""
    samples = [[] for _ in functions]
    results = [None] * len(functions)
    for _ in range(runs):
        for index, function in enumerate(functions):
            env.invalidate_all()
            started = time.perf_counter()
            results[index] = function()
            samples[index].append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples], results


def main():
    parser = command_line(__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=11, help="runs of the tool and of the SQL (median)")
    parser.add_argument("--naive-runs", type=int, default=1, help="runs of search_read + sum (slow)")
    args = parser.parse_args()

    with superuser_env(args) as env:
        company, user = setup(env, args.lines)
        rows = []
        for label, date_from, date_to in PERIODS:
            env.cr.execute(
                "SELECT COUNT(*) FROM account_move_line WHERE company_id = %s AND parent_state = 'posted' "
                "AND date <= %s AND date >= %s",
                [company.id, date_to, date_from or "0001-01-01"],
            )
            items = env.cr.fetchone()[0]
            (tool_s, sql_s), (tool, sql) = timed(
                [
                    lambda f=date_from, t=date_to: run_tool(env, company, user, f, t),
                    lambda f=date_from, t=date_to: run_sql(env, company, f, t),
                ],
                args.runs,
                env,
            )
            (naive_s,), (naive,) = timed(
                [lambda f=date_from, t=date_to: run_search_read(env, company, user, f, t)],
                args.naive_runs,
                env,
            )
            tool = tool_rows(env, company, tool)
            assert tool == sql == naive, "the three methods disagree"
            rows.append((label, items, len(tool), tool_s, sql_s, naive_s))
        env.cr.rollback()
    print(
        f"{args.lines} journal items in the bench company; median of {args.runs} runs "
        f"(search_read: {args.naive_runs}); all three agree on every account"
    )
    print(
        "| period | posted items | accounts | GetGLBalance (ms) | SQL GROUP BY (ms) | tool / SQL | "
        "search_read + sum (ms) | search_read / tool |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, items, accounts, tool_s, sql_s, naive_s in rows:
        print(
            f"| {label} | {items:,} | {accounts} | {tool_s * 1000:.0f} | {sql_s * 1000:.0f} | "
            f"{tool_s / sql_s:.2f}x | {naive_s * 1000:,.0f} | {naive_s / tool_s:.0f}x |"
        )


if __name__ == "__main__":
    main()
