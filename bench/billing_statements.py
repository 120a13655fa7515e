"""ai_billing: one month of 1 M usage events priced into a statement, against a naive ORM loop.

Run with the interpreter that imports Odoo 19, on a database with ai_billing installed. Everything
happens in one transaction that is rolled back at the end: the database is left as it was.

    python bench/billing_statements.py -c /path/to/odoo.conf -d aia_bench [--events 1000000]
        [--runs 5] [--naive-days 0]

1. Fixture: a tenant company on a plan whose prices change on the 16th (two versions, per-model
   prices for two of five models), 20 agents, 5 users; ``--events`` ledger rows spread over March
   2026 (80 % provider calls, 15 % tool calls, 5 % knowledge queries) plus rows just outside the
   month, bulk-inserted with ``INSERT ... SELECT generate_series`` (the ORM is bypassed for the
   fixture only).
2. Statement: ``aia.billing.statement._aia_compute()``, the method behind "Compute" and the
   monthly cron (one SQL GROUP BY joined to the version in force at each event's date, priced in
   Decimal per group, lines written through the ORM). Median of ``--runs``. Also timed: the
   queue-job variant that sums the month day by day (31 queries) for its progress bar.
3. Baseline, in the same run: a naive ORM loop, ``search()`` of the month's events then, event by
   event, the version in force, Decimal prices and per-line sums in Python. ``--naive-days N``
   runs it on the month's first N days only and extrapolates linearly by events (0: all of it).
4. Both give the same lines, to the cent (asserted; with a sample, against the statement of the
   same days).
"""

from __future__ import annotations

import bisect
import statistics
import time
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from odoo_bench import command_line, superuser_env

MONTH = datetime(2026, 3, 1)
MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "gpt-4.1", "llama-3.3-70b", "mistral-large"]


def model_prices(model_name, factor, prices):
    fields = ("price_input", "price_output", "price_cache_read", "price_cache_write")
    return {
        "model_name": model_name,
        **{field: price * factor for field, price in zip(fields, prices, strict=True)},
    }


def build_fixture(env, events):
    company = env["res.company"].create({"name": "Bench tenant"})
    usd = env.ref("base.USD")
    usd.active = True
    plan = env["aia.billing.plan"].create({"name": "Bench plan", "currency_id": usd.id})
    for date_from, factor in (("2026-01-01", 1), ("2026-03-16", 2)):
        env["aia.billing.plan.version"].create(
            {
                "plan_id": plan.id,
                "date_from": date_from,
                "price_input": 0.5 * factor,
                "price_output": 1.5 * factor,
                "price_cache_read": 0.05 * factor,
                "price_cache_write": 0.625 * factor,
                "price_tool_call": 0.0025 * factor,
                "price_kb_query": 0.001 * factor,
                "included_amount": 100,
                "price_ids": [
                    (0, 0, model_prices(MODELS[0], factor, (3, 15, 0.3, 3.75))),
                    (0, 0, model_prices(MODELS[1], factor, (0.8, 4, 0.08, 1))),
                ],
            }
        )
    company.aia_billing_plan_id = plan
    agents = env["aia.agent"].create(
        [{"code": f"bench{i}", "name": f"Bench agent {i}", "company_id": company.id} for i in range(20)]
    )
    users = env["res.users"].create(
        [
            {
                "name": f"Bench user {i}",
                "login": f"bench_billing_{i}",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
            }
            for i in range(5)
        ]
    )
    agent_ids = "{" + ",".join(str(agent.id) for agent in agents) + "}"
    user_ids = "{" + ",".join(str(user.id) for user in users) + "}"
    models = "{" + ",".join(MODELS) + "}"
    started = time.perf_counter()
    # Deterministic spread: i walks the month; multiplications by primes pick agent, user, model,
    # kind and token counts. 20 extra rows fall just outside the month on each side.
    env.cr.execute(
        """
        INSERT INTO aia_usage_event (
            date, kind, company_id, agent_id, user_id, provider, model_name, tool_name,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, total_tokens, cost,
            latency_ms, create_uid, write_uid, create_date, write_date)
        SELECT date, kind, %(company)s, agent_id, user_id, provider, model_name, tool_name,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
               input_tokens + output_tokens + cache_read_tokens + cache_write_tokens,
               0, 100, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM (
            SELECT %(start)s::timestamp + (i::bigint * 2678400 / %(n)s) * interval '1 second' AS date,
                   CASE WHEN i %% 20 < 16 THEN 'provider_call' WHEN i %% 20 < 19 THEN 'tool_call'
                        ELSE 'kb_query' END AS kind,
                   (%(agents)s::int[])[1 + (i * 7) %% 20] AS agent_id,
                   (%(users)s::int[])[1 + (i * 13) %% 5] AS user_id,
                   CASE WHEN i %% 20 < 16 THEN 'bench' END AS provider,
                   CASE WHEN i %% 20 < 16 THEN (%(models)s::text[])[1 + (i * 31) %% 5] END AS model_name,
                   CASE WHEN i %% 20 BETWEEN 16 AND 18 THEN 'orm.search_read' END AS tool_name,
                   CASE WHEN i %% 20 < 16 THEN 500 + (i * 37) %% 4000 ELSE 0 END AS input_tokens,
                   CASE WHEN i %% 20 < 16 THEN 50 + (i * 41) %% 900 ELSE 0 END AS output_tokens,
                   CASE WHEN i %% 20 < 16 AND i %% 3 = 0 THEN (i * 43) %% 20000 ELSE 0 END
                       AS cache_read_tokens,
                   CASE WHEN i %% 20 < 16 AND i %% 7 = 0 THEN (i * 47) %% 3000 ELSE 0 END
                       AS cache_write_tokens
              FROM generate_series(0, %(n)s - 1) AS i
            UNION ALL
            SELECT d, 'provider_call', (%(agents)s::int[])[1], (%(users)s::int[])[1], 'bench', 'gpt-4.1',
                   NULL, 1000000, 0, 0, 0
              FROM unnest(ARRAY[%(start)s::timestamp - interval '1 second',
                                %(start)s::timestamp + interval '31 days']) AS d,
                   generate_series(1, 10)
          ) AS rows
        """,
        {
            "company": company.id,
            "start": MONTH,
            "n": events,
            "agents": agent_ids,
            "users": user_ids,
            "models": models,
        },
    )
    env.cr.execute("ANALYZE aia_usage_event")
    return company, time.perf_counter() - started


def statement_lines(statement):
    return [
        (line.agent_id.id or False, line.model_name or False, line.kind, line.quantity, line.amount)
        for line in statement.line_ids
        if line.kind != "quota"
    ]


def bench_sql(env, statement, runs):
    timings, grouping = [], []
    plan = statement.company_id.aia_billing_plan_id
    start, stop = MONTH, MONTH + relativedelta(months=1)
    for _ in range(runs):
        env.invalidate_all()
        started = time.perf_counter()
        statement._aia_compute()
        env.flush_all()
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        plan._aia_usage_groups(statement.company_id, start, stop)
        grouping.append(time.perf_counter() - started)
    return statistics.median(timings), timings, statistics.median(grouping)


def bench_days(env, statement):
    from odoo.addons.ai_billing.models.aia_billing_plan import month_bounds

    start, stop = month_bounds(statement.period_start)
    slices = []
    day = start
    while day < stop:
        slices.append((day, day + relativedelta(days=1)))
        day += relativedelta(days=1)
    env.invalidate_all()
    started = time.perf_counter()
    statement._aia_compute(slices=slices)
    env.flush_all()
    return time.perf_counter() - started


def naive_lines(env, company, plan, stop):
    """Search the events from the 1st to ``stop`` with the ORM and price them one by one in Python."""
    from odoo.addons.ai_billing.models.aia_billing_plan import round_to_currency

    per_million = Decimal(1_000_000)
    started = time.perf_counter()
    events = env["aia.usage.event"].search(
        [("company_id", "=", company.id), ("date", ">=", MONTH), ("date", "<", stop)], order="id"
    )
    versions = plan.version_ids.sorted("date_from")
    starts = [version.date_from for version in versions]

    def prices(version, model_name):
        row = version.price_ids.filtered(lambda price: price.model_name == model_name) or version
        return {
            "tokens_input": Decimal(str(row.price_input)),
            "tokens_output": Decimal(str(row.price_output)),
            "tokens_cache_read": Decimal(str(row.price_cache_read)),
            "tokens_cache_write": Decimal(str(row.price_cache_write)),
        }

    price_cache = {}
    quantities = defaultdict(int)
    amounts = defaultdict(Decimal)
    for event in events:
        index = bisect.bisect_right(starts, event.date.date()) - 1
        if index < 0:
            continue
        version = versions[index]
        agent = event.agent_id.id or False
        if event.kind == "provider_call":
            model = event.model_name or False
            key = (version.id, model)
            if key not in price_cache:
                price_cache[key] = prices(version, event.model_name)
            for kind, tokens in (
                ("tokens_input", event.input_tokens),
                ("tokens_output", event.output_tokens),
                ("tokens_cache_read", event.cache_read_tokens),
                ("tokens_cache_write", event.cache_write_tokens),
            ):
                if tokens:
                    line = (version.date_from, agent, model, kind)
                    quantities[line] += tokens
                    amounts[line] += tokens * price_cache[key][kind] / per_million
        else:
            price = version.price_tool_call if event.kind == "tool_call" else version.price_kb_query
            line = (version.date_from, agent, False, event.kind)
            quantities[line] += 1
            amounts[line] += Decimal(str(price))
    order = [
        "tokens_input",
        "tokens_output",
        "tokens_cache_read",
        "tokens_cache_write",
        "tool_call",
        "kb_query",
    ]
    lines = [
        (agent, model, kind, float(quantities[key]), float(round_to_currency(amounts[key], plan.currency_id)))
        for key in sorted(quantities, key=lambda k: (k[0], k[1] or 0, k[2] or "", order.index(k[3])))
        for _date, agent, model, kind in [key]
    ]
    return lines, time.perf_counter() - started, len(events)


def main():
    parser = command_line(__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--naive-days", type=int, default=0)
    args = parser.parse_args()

    with superuser_env(args) as env:
        try:
            company, insert_s = build_fixture(env, args.events)
            plan = company.aia_billing_plan_id
            statement = env["aia.billing.statement"].create({"company_id": company.id, "period_start": MONTH})
            sql_s, sql_runs, group_s = bench_sql(env, statement, args.runs)
            expected = statement_lines(statement)
            events = statement.event_count
            days_s = bench_days(env, statement)
            assert statement_lines(statement) == expected, "day-by-day sums differ"
            stop = (
                MONTH + relativedelta(days=args.naive_days)
                if args.naive_days
                else MONTH + relativedelta(months=1)
            )
            env.invalidate_all()
            naive, naive_s, naive_events = naive_lines(env, company, plan, stop)
            if args.naive_days:
                # The statement's lines over the same days, to compare with.
                statement._aia_compute(slices=[(MONTH, stop)])
            assert naive == statement_lines(statement), "the naive loop and the statement differ"
            naive_full_s = naive_s * events / naive_events
        finally:
            env.cr.rollback()
    print(
        f"{events} events in the month ({args.events} generated), fixture insert {insert_s:.1f} s; "
        f"statement runs: {', '.join(f'{t:.3f}' for t in sql_runs)} s"
    )
    rows = [
        (
            "`_aia_compute()`: one SQL GROUP BY, Decimal pricing, lines written",
            events,
            f"{sql_s:.2f}",
            "1.0x",
            "",
        ),
        (
            "of which the GROUP BY (`_aia_usage_groups`)",
            events,
            f"{group_s:.2f}",
            f"{group_s / sql_s:.2f}x",
            "",
        ),
        (
            "queue-job variant: 31 daily GROUP BYs, summed",
            events,
            f"{days_s:.2f}",
            f"{days_s / sql_s:.1f}x",
            "yes",
        ),
    ]
    if args.naive_days:
        rows.append(
            (
                f"naive ORM loop (`search()` + Python), first {args.naive_days} days",
                naive_events,
                f"{naive_s:.1f}",
                "",
                "yes",
            )
        )
        rows.append(
            (
                "naive ORM loop, extrapolated to the month",
                events,
                f"{naive_full_s:.0f}",
                f"{naive_full_s / sql_s:.0f}x",
                "",
            )
        )
    else:
        ratio = f"{naive_s / sql_s:.0f}x"
        rows.append(("naive ORM loop (`search()` + Python)", events, f"{naive_s:.1f}", ratio, "yes"))
    print("| method | events | time (s) | ratio | same lines |")
    print("|---|---|---|---|---|")
    for method, count, seconds, ratio, same in rows:
        print(f"| {method} | {count:,} | {seconds} | {ratio} | {same} |")


if __name__ == "__main__":
    main()
