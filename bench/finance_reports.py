"""The Finance report tools over about 1 M journal items: each tool against the SQL a developer
would write for the same answer, measured in the same run (interleaved) and checked to agree.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_agents_finance
installed (the benchmark commits a company with its generated books there, and reuses them on
the next run):

    odoo-bin -c /path/to/odoo.conf -d aia_fin_bench -i ai_agents_finance --stop-after-init
    python bench/finance_reports.py -c /path/to/odoo.conf -d aia_fin_bench [--invoices 200000]

Data, inserted with ``INSERT ... SELECT generate_series`` in a company "Reports Bench" (USD,
Odoo's generic chart), ``--invoices`` posted documents dated 2020-2023 for 2,000 partners: two
thirds customer invoices, one third vendor bills, each of three journal items (receivable or
payable with its due date 0 to 45 days later, income or expense carrying the 15 % tax, the tax
item). 70 % are paid and 10 % half paid by a payment 0 to 89 days later (two journal items, an
``account.payment`` and the partial reconciliation), one payment in twenty not matched with a
bank statement. About 1 M journal items in all.

Measured as a user with the Accounting read-only right, in that company: each handler through
ai_core's tool context (as a session calls it) against hand-written SQL over the same tables.
"""

from __future__ import annotations

import statistics
import time

from odoo_bench import command_line, superuser_env

COMPANY = "Reports Bench"
LOGIN = "reports_bench_accountant"
PARTNERS = 2000
AGING = (
    ("not_due", None, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("older", 121, None),
)
PL_TYPES = (
    "income",
    "income_other",
    "expense",
    "expense_other",
    "expense_depreciation",
    "expense_direct_cost",
)


def setup(env, invoices):
    company = env["res.company"].search([("name", "=", COMPANY)], limit=1)
    if not company:
        company = env["res.company"].create({"name": COMPANY, "currency_id": env.ref("base.USD").id})
        env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    user = env["res.users"].search([("login", "=", LOGIN)], limit=1)
    if not user:
        user = env["res.users"].create(
            {
                "name": "Reports bench accountant",
                "login": LOGIN,
                "tz": "UTC",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "group_ids": [(6, 0, [env.ref("account.group_account_readonly").id])],
            }
        )
    env.cr.execute(
        "SELECT COUNT(*) FROM account_move WHERE company_id = %s AND name LIKE 'RBINV/%%'", [company.id]
    )
    if env.cr.fetchone()[0] != invoices:
        generate(env, company, invoices)
    env.cr.commit()
    return company, user


def generate(env, company, invoices):
    started = time.perf_counter()
    cr = env.cr
    cr.execute("DELETE FROM account_partial_reconcile WHERE company_id = %s", [company.id])
    cr.execute("DELETE FROM account_payment WHERE company_id = %s", [company.id])
    cr.execute("DELETE FROM account_move WHERE company_id = %s", [company.id])
    partners = env["res.partner"].search([("name", "=like", "Reports bench partner %")])
    if len(partners) < PARTNERS:
        partners |= env["res.partner"].create(
            [{"name": f"Reports bench partner {n}"} for n in range(len(partners), PARTNERS)]
        )
    Account = env["account.account"].with_company(company)

    def account(account_type):
        return Account.search(
            [*Account._check_company_domain(company), ("account_type", "=", account_type)], limit=1
        ).id

    def journal(kind):
        return env["account.journal"].search([("company_id", "=", company.id), ("type", "=", kind)], limit=1)

    sale_tax, purchase_tax = company.account_sale_tax_id, company.account_purchase_tax_id

    def tax_line(tax):
        return tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")

    params = {
        "company": company.id,
        "currency": company.currency_id.id,
        "partners": partners.ids,
        "n": invoices,
        "sale_journal": journal("sale").id,
        "purchase_journal": journal("purchase").id,
        "bank_journal": journal("bank").id,
        "receivable": account("asset_receivable"),
        "payable": account("liability_payable"),
        "income": account("income"),
        "expense": account("expense"),
        "bank_account": journal("bank").default_account_id.id,
        "sale_tax": sale_tax.id,
        "purchase_tax": purchase_tax.id,
        "sale_tax_account": tax_line(sale_tax).account_id.id,
        "purchase_tax_account": tax_line(purchase_tax).account_id.id,
        "sale_rep": tax_line(sale_tax).id,
        "purchase_rep": tax_line(purchase_tax).id,
    }
    # One row per invoice with its figures; sale = g % 3 <> 0; paid: g % 10 < 7, half: g % 10 = 7.
    cr.execute(
        """
        CREATE TEMP TABLE bench_doc ON COMMIT DROP AS
        SELECT g, g %% 3 <> 0 AS sale,
               (%(partners)s::int[])[1 + (g * 31) %% cardinality(%(partners)s::int[])] AS partner,
               DATE '2020-01-01' + (g %% 1461) AS day,
               DATE '2020-01-01' + (g %% 1461) + (g %% 4) * 15 AS due,
               DATE '2020-01-01' + (g %% 1461) + (g * 7) %% 90 AS paid_on,
               untaxed, ROUND(untaxed * 0.15, 2) AS tax, untaxed + ROUND(untaxed * 0.15, 2) AS total,
               CASE WHEN g %% 10 < 7 THEN untaxed + ROUND(untaxed * 0.15, 2)
                    WHEN g %% 10 = 7 THEN ROUND((untaxed + ROUND(untaxed * 0.15, 2)) / 2, 2)
                    ELSE 0 END AS paid
          FROM generate_series(1, %(n)s) g
         CROSS JOIN LATERAL (SELECT ((g::bigint * 7919) %% 100000) / 100.0 + 1 AS untaxed) u
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type, auto_post, date,
                                  invoice_date, invoice_date_due, name, partner_id, commercial_partner_id,
                                  amount_untaxed, amount_tax, amount_total, amount_residual,
                                  amount_untaxed_signed, amount_tax_signed, amount_total_signed,
                                  amount_total_in_currency_signed, amount_residual_signed, payment_state,
                                  create_uid, write_uid, create_date, write_date)
        SELECT CASE WHEN sale THEN %(sale_journal)s ELSE %(purchase_journal)s END, %(company)s, %(currency)s,
               'posted', CASE WHEN sale THEN 'out_invoice' ELSE 'in_invoice' END, 'no', day, day, due,
               'RBINV/' || g, partner, partner, untaxed, tax, total, total - paid,
               s * untaxed, s * tax, s * total, s * total, s * (total - paid),
               CASE WHEN paid = 0 THEN 'not_paid' WHEN paid < total THEN 'partial' ELSE 'paid' END,
               1, 1, now(), now()
          FROM bench_doc CROSS JOIN LATERAL (SELECT CASE WHEN sale THEN 1 ELSE -1 END AS s) sign
        """,
        params,
    )
    # Three items per invoice: 0 receivable / payable, 1 income / expense (taxed), 2 tax.
    cr.execute(
        """
        INSERT INTO account_move_line (move_id, company_id, journal_id, account_id, partner_id, date,
                                       date_maturity, parent_state, move_name, name, display_type,
                                       currency_id, company_currency_id, debit, credit, balance,
                                       amount_currency, amount_residual, amount_residual_currency, reconciled,
                                       tax_line_id, tax_repartition_line_id,
                                       create_uid, write_uid, create_date, write_date)
        SELECT m.id, m.company_id, m.journal_id, x.account, d.partner, d.day,
               CASE WHEN k = 0 THEN d.due END, 'posted', m.name, 'bench',
               (ARRAY['payment_term', 'product', 'tax'])[k + 1], m.currency_id, m.currency_id,
               GREATEST(x.balance, 0), GREATEST(-x.balance, 0), x.balance, x.balance,
               x.residual, x.residual, k = 0 AND x.residual = 0,
               CASE WHEN k = 2 THEN x.tax END, CASE WHEN k = 2 THEN x.rep END,
               1, 1, now(), now()
          FROM bench_doc d
          JOIN account_move m ON m.name = 'RBINV/' || d.g AND m.company_id = %(company)s
         CROSS JOIN generate_series(0, 2) k
         CROSS JOIN LATERAL (
               SELECT CASE WHEN d.sale THEN 1 ELSE -1 END AS s
         ) sign
         CROSS JOIN LATERAL (
               SELECT CASE k WHEN 0 THEN CASE WHEN d.sale THEN %(receivable)s ELSE %(payable)s END
                             WHEN 1 THEN CASE WHEN d.sale THEN %(income)s ELSE %(expense)s END
                             ELSE CASE WHEN d.sale THEN %(sale_tax_account)s ELSE %(purchase_tax_account)s END
                      END AS account,
                      CASE k WHEN 0 THEN s * d.total WHEN 1 THEN -s * d.untaxed
                             ELSE -s * d.tax END AS balance,
                      CASE WHEN k = 0 THEN s * (d.total - d.paid) ELSE 0 END AS residual,
                      CASE WHEN d.sale THEN %(sale_tax)s ELSE %(purchase_tax)s END AS tax,
                      CASE WHEN d.sale THEN %(sale_rep)s ELSE %(purchase_rep)s END AS rep
         ) x
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO account_move_line_account_tax_rel (account_move_line_id, account_tax_id)
        SELECT l.id, CASE WHEN m.move_type = 'out_invoice' THEN %(sale_tax)s ELSE %(purchase_tax)s END
          FROM account_move_line l JOIN account_move m ON m.id = l.move_id
         WHERE l.company_id = %(company)s AND l.display_type = 'product'
        """,
        params,
    )
    # Payments: a move of two items (bank, counterpart on the receivable / payable), its
    # account.payment and the partial reconciliation with the invoice's item.
    cr.execute(
        """
        INSERT INTO account_move (journal_id, company_id, currency_id, state, move_type, auto_post, date,
                                  name, partner_id, commercial_partner_id, create_uid, write_uid, create_date,
                                  write_date)
        SELECT %(bank_journal)s, %(company)s, %(currency)s, 'posted', 'entry', 'no', paid_on, 'RBPAY/' || g,
               partner, partner, 1, 1, now(), now()
          FROM bench_doc WHERE paid > 0
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO account_move_line (move_id, company_id, journal_id, account_id, partner_id, date,
                                       date_maturity, parent_state, move_name, name, display_type,
                                       currency_id, company_currency_id, debit, credit, balance,
                                       amount_currency, amount_residual, amount_residual_currency, reconciled,
                                       create_uid, write_uid, create_date, write_date)
        SELECT m.id, m.company_id, m.journal_id,
               CASE WHEN k = 0 THEN %(bank_account)s WHEN d.sale THEN %(receivable)s ELSE %(payable)s END,
               d.partner, d.paid_on, d.paid_on, 'posted', m.name, 'bench', 'product', m.currency_id,
               m.currency_id, GREATEST(b, 0), GREATEST(-b, 0), b, b, 0, 0, k = 1, 1, 1, now(), now()
          FROM bench_doc d
          JOIN account_move m ON m.name = 'RBPAY/' || d.g AND m.company_id = %(company)s
         CROSS JOIN generate_series(0, 1) k
         CROSS JOIN LATERAL (
               SELECT CASE WHEN (k = 0) = d.sale THEN d.paid ELSE -d.paid END AS b
         ) x
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO account_payment (move_id, journal_id, company_id, date, partner_id, payment_type,
                                     partner_type, state, amount, currency_id, amount_company_currency_signed,
                                     is_matched, is_reconciled, name, memo, create_uid, write_uid,
                                     create_date, write_date)
        SELECT m.id, m.journal_id, m.company_id, d.paid_on, d.partner,
               CASE WHEN d.sale THEN 'inbound' ELSE 'outbound' END,
               CASE WHEN d.sale THEN 'customer' ELSE 'supplier' END,
               CASE WHEN d.g %% 20 = 0 THEN 'in_process' ELSE 'paid' END, d.paid, m.currency_id,
               CASE WHEN d.sale THEN d.paid ELSE -d.paid END, d.g %% 20 <> 0, TRUE, m.name, 'RBINV/' || d.g,
               1, 1, now(), now()
          FROM bench_doc d
          JOIN account_move m ON m.name = 'RBPAY/' || d.g AND m.company_id = %(company)s
        """,
        params,
    )
    cr.execute(
        """
        UPDATE account_move m SET origin_payment_id = p.id
          FROM account_payment p WHERE p.move_id = m.id AND p.company_id = %(company)s
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, amount, debit_amount_currency,
                                               credit_amount_currency, debit_currency_id, credit_currency_id,
                                               company_id, max_date, create_uid, write_uid, create_date,
                                               write_date)
        SELECT CASE WHEN d.sale THEN inv.id ELSE pay.id END, CASE WHEN d.sale THEN pay.id ELSE inv.id END,
               d.paid, d.paid, d.paid, %(currency)s, %(currency)s, %(company)s, GREATEST(d.day, d.paid_on),
               1, 1, now(), now()
          FROM bench_doc d
          JOIN account_move_line inv ON inv.move_name = 'RBINV/' || d.g AND inv.display_type = 'payment_term'
                                    AND inv.company_id = %(company)s
          JOIN account_move_line pay ON pay.move_name = 'RBPAY/' || d.g AND pay.reconciled
                                    AND pay.company_id = %(company)s
         WHERE d.paid > 0
        """,
        params,
    )
    for table in ("account_move", "account_move_line", "account_payment", "account_partial_reconcile"):
        cr.execute(f"ANALYZE {table}")
    env.invalidate_all()
    print(f"generated {invoices} invoices and their payments in {time.perf_counter() - started:.0f} s")


# === THE TOOLS === #


def run_tool(env, company, user, name, arguments):
    from odoo.addons.ai_core.tools import CATALOGUE, OdooToolContext

    spec = CATALOGUE.get(name)
    user_env = env(user=user.id, context={"allowed_company_ids": [company.id], "tz": "UTC"})
    return OdooToolContext(user_env).invoke(spec.handler, arguments, timeout=spec.timeout)


def fetch(env, query, params):
    env.cr.execute(query, params)
    return env.cr.fetchall()


# === THE BASELINES: what a developer would write === #


def aged_sql(env, company, account_type, as_of, sign, limit=20):
    buckets = ", ".join(
        "COALESCE(SUM(open) FILTER (WHERE {}), 0)".format(
            " AND ".join(
                part
                for part in (
                    f"days >= {low}" if low is not None else "",
                    f"days <= {high}" if high is not None else "",
                )
                if part
            )
        )
        for _key, low, high in AGING
    )
    rows = fetch(
        env,
        f"""
        WITH later AS (
            SELECT line_id, SUM(amount) AS amount FROM (
                SELECT debit_move_id AS line_id, amount
                  FROM account_partial_reconcile WHERE max_date > %(day)s
                 UNION ALL
                SELECT credit_move_id, -amount
                  FROM account_partial_reconcile WHERE max_date > %(day)s
            ) p GROUP BY line_id
        ), items AS (
            SELECT l.partner_id, l.amount_residual + COALESCE(later.amount, 0) AS open,
                   %(day)s - COALESCE(l.date_maturity, l.date) AS days
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              LEFT JOIN later ON later.line_id = l.id
             WHERE l.company_id = %(company)s AND l.parent_state = 'posted' AND l.date <= %(day)s
               AND a.account_type = %(type)s AND (l.amount_residual <> 0 OR later.line_id IS NOT NULL)
        )
        SELECT partner_id, p.name, {buckets}
          FROM items LEFT JOIN res_partner p ON p.id = items.partner_id
         GROUP BY partner_id, p.name
        """,
        {"day": as_of, "company": company.id, "type": account_type},
    )
    rows = [(pid, name, [sign * float(v) for v in amounts]) for pid, name, *amounts in rows]
    rows = [row for row in rows if any(round(v, 2) for v in row[2])]
    rows.sort(key=lambda row: (-sum(row[2]), row[0] or 0))
    totals = [round(sum(row[2][i] for row in rows), 2) for i in range(len(AGING))]
    return totals, [(name, round(sum(amounts), 2)) for _pid, name, amounts in rows[:limit]]


def aged_tool(result):
    totals = [result["totals"][key] for key, _low, _high in AGING]
    return totals, [(row["partner"], row["total"]) for row in result["partners"]]


def pl_sql(env, company):
    rows = fetch(
        env,
        """
        SELECT a.account_type,
               COALESCE(SUM(l.balance) FILTER (WHERE l.date >= '2023-01-01'), 0),
               COALESCE(SUM(l.balance) FILTER (WHERE l.date < '2023-01-01'), 0)
          FROM account_move_line l JOIN account_account a ON a.id = l.account_id
         WHERE l.company_id = %(company)s AND l.parent_state = 'posted'
           AND l.date BETWEEN '2022-01-01' AND '2023-12-31' AND a.account_type IN %(types)s
         GROUP BY a.id, a.account_type
        """,
        {"company": company.id, "types": PL_TYPES},
    )
    net = {"current": 0.0, "previous": 0.0}
    for _type, current, previous in rows:
        net["current"] -= float(current)
        net["previous"] -= float(previous)
    return {key: round(value, 2) for key, value in net.items()}


def bs_sql(env, company):
    rows = fetch(
        env,
        """
        SELECT a.account_type,
               COALESCE(SUM(l.balance) FILTER (WHERE l.date <= '2023-12-31'), 0),
               COALESCE(SUM(l.balance) FILTER (WHERE l.date >= '2023-01-01'), 0),
               COALESCE(SUM(l.balance) FILTER (WHERE l.date <= '2022-12-31'), 0),
               COALESCE(SUM(l.balance) FILTER (WHERE l.date >= '2022-01-01' AND l.date <= '2022-12-31'), 0)
          FROM account_move_line l JOIN account_account a ON a.id = l.account_id
         WHERE l.company_id = %(company)s AND l.parent_state = 'posted' AND l.date <= '2023-12-31'
           AND a.account_type <> 'off_balance'
         GROUP BY a.id, a.account_type
        """,
        {"company": company.id},
    )
    assets = {"current": 0.0, "previous": 0.0}
    for account_type, now, _year, before, _previous_year in rows:
        if account_type.startswith("asset"):
            assets["current"] += float(now)
            assets["previous"] += float(before)
    return {key: round(value, 2) for key, value in assets.items()}


def tb_sql(env, company):
    rows = fetch(
        env,
        """
        SELECT a.code_store->>%(key)s, s.opening, s.debit, s.credit, s.closing
          FROM (SELECT account_id,
                       COALESCE(SUM(balance) FILTER (WHERE date < '2023-01-01'), 0) AS opening,
                       COALESCE(SUM(debit) FILTER (WHERE date >= '2023-01-01'), 0) AS debit,
                       COALESCE(SUM(credit) FILTER (WHERE date >= '2023-01-01'), 0) AS credit,
                       SUM(balance) AS closing
                  FROM account_move_line
                 WHERE company_id = %(company)s AND parent_state = 'posted' AND date <= '2023-12-31'
                 GROUP BY account_id) s
          JOIN account_account a ON a.id = s.account_id
        """,
        {"company": company.id, "key": str(company.root_id.id)},
    )
    return sorted((code, *(round(float(v), 2) for v in values)) for code, *values in rows)


def tax_sql(env, company):
    params = {"company": company.id}
    taxes = fetch(
        env,
        """
        SELECT tax_line_id, SUM(balance) FROM account_move_line
         WHERE company_id = %(company)s AND parent_state = 'posted' AND tax_line_id IS NOT NULL
           AND date BETWEEN '2023-01-01' AND '2023-12-31'
         GROUP BY tax_line_id
        """,
        params,
    )
    bases = fetch(
        env,
        """
        SELECT r.account_tax_id, SUM(l.balance) FROM account_move_line l
          JOIN account_move_line_account_tax_rel r ON r.account_move_line_id = l.id
         WHERE l.company_id = %(company)s AND l.parent_state = 'posted' AND l.tax_repartition_line_id IS NULL
           AND l.date BETWEEN '2023-01-01' AND '2023-12-31'
         GROUP BY r.account_tax_id
        """,
        params,
    )
    return sorted(
        [round(abs(float(amount)), 2) for _tax, amount in taxes]
        + [round(abs(float(b)), 2) for _tax, b in bases]
    )


def overdue_sql(env, company, today):
    """The count and open total, and the 20 most overdue with their follow-up status (sent, last
    message sent from the invoice, next activity)."""
    params = {"company": company.id, "today": today, "comment": env.ref("mail.mt_comment").id}
    [(count, total)] = fetch(
        env,
        """
        SELECT COUNT(*), SUM(amount_residual_signed) FROM account_move
         WHERE company_id = %(company)s AND state = 'posted' AND move_type IN ('out_invoice', 'out_receipt')
           AND payment_state IN ('not_paid', 'partial') AND invoice_date_due < %(today)s
        """,
        params,
    )
    rows = fetch(
        env,
        """
        SELECT m.name, p.name, m.invoice_date_due, m.amount_residual_signed, m.amount_total_signed,
               m.is_move_sent,
               (SELECT MAX(msg.date) FROM mail_message msg
                 WHERE msg.model = 'account.move' AND msg.res_id = m.id AND msg.subtype_id = %(comment)s
                   AND msg.message_type IN ('comment', 'email_outgoing')),
               (SELECT ARRAY[a.date_deadline::text, a.summary] FROM mail_activity a
                 WHERE a.res_model = 'account.move' AND a.res_id = m.id
                 ORDER BY a.date_deadline, a.id LIMIT 1)
          FROM account_move m JOIN res_partner p ON p.id = m.partner_id
         WHERE m.company_id = %(company)s AND m.state = 'posted'
           AND m.move_type IN ('out_invoice', 'out_receipt') AND m.payment_state IN ('not_paid', 'partial')
           AND m.invoice_date_due < %(today)s
         ORDER BY m.invoice_date_due, m.id LIMIT 20
        """,
        params,
    )
    return (
        count,
        round(float(total), 2),
        [(row[0], round(float(row[3]), 2)) for row in rows],
    )


def payments_sql(env, company):
    # "is_matched IS NOT TRUE": the predicate of Odoo's partial index of the payments not matched
    # (account_payment_unmatched_idx), which "NOT is_matched" would not use.
    params = {"company": company.id}
    totals = fetch(
        env,
        """
        SELECT payment_type, COUNT(*), SUM(ABS(amount_company_currency_signed)) FROM account_payment
         WHERE company_id = %(company)s AND state IN ('in_process', 'paid') AND is_matched IS NOT TRUE
         GROUP BY payment_type
        """,
        params,
    )
    rows = fetch(
        env,
        """
        SELECT p.name, p.amount,
               ARRAY(SELECT DISTINCT inv.move_name FROM account_move_line pl
                       JOIN account_partial_reconcile r ON pl.id IN (r.debit_move_id, r.credit_move_id)
                       JOIN account_move_line inv ON inv.id IN (r.debit_move_id, r.credit_move_id)
                                                 AND inv.move_id <> p.move_id
                      WHERE pl.move_id = p.move_id)
          FROM account_payment p
         WHERE p.company_id = %(company)s AND p.state IN ('in_process', 'paid') AND p.is_matched IS NOT TRUE
         ORDER BY p.date, p.id LIMIT 20
        """,
        params,
    )
    return (
        {kind: (count, round(float(amount), 2)) for kind, count, amount in totals},
        [(name, round(float(amount), 2), sorted(invoices)) for name, amount, invoices in rows],
    )


def timed_pair(tool, sql, runs, env):
    """Medians (ms) and last results of ``runs`` runs of ``tool`` and of ``sql``, interleaved in
    alternating order so that the load of the machine weighs on both alike; ORM caches cleared
    before each run."""
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
        statistics.median(samples["tool"]) * 1000,
        results["tool"],
        statistics.median(samples["sql"]) * 1000,
        results["sql"],
    )


def close(a, b):
    """Equal up to a cent per amount."""
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 0.011
    return a == b


def main():
    parser = command_line(__doc__)
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=11, help="runs of each tool and of its SQL (median)")
    parser.add_argument("--tools", nargs="*", help="only these tools (display names, e.g. GetTaxTotals)")
    args = parser.parse_args()

    with superuser_env(args) as env:
        company, user = setup(env, args.invoices)
        env.cr.execute("SELECT COUNT(*) FROM account_move_line WHERE company_id = %s", [company.id])
        items = env.cr.fetchone()[0]
        from odoo import fields

        today = fields.Date.today()

        def tool(name, arguments):
            return lambda: run_tool(env, company, user, name, arguments)

        cases = [
            (
                "GetAgedBalance",
                "receivables as of 2023-06-30",
                tool("finance.get_aged_balance", {"date": "2023-06-30"}),
                lambda: aged_sql(env, company, "asset_receivable", "2023-06-30", 1),
                aged_tool,
            ),
            (
                "GetAgedBalance",
                "payables as of 2023-12-31",
                tool("finance.get_aged_balance", {"date": "2023-12-31", "kind": "payable"}),
                lambda: aged_sql(env, company, "liability_payable", "2023-12-31", -1),
                aged_tool,
            ),
            (
                "GetProfitAndLoss",
                "2023 against 2022",
                tool("finance.get_profit_and_loss", {"date_from": "2023-01-01", "date_to": "2023-12-31"}),
                lambda: pl_sql(env, company),
                lambda result: result["net_profit"],
            ),
            (
                "GetBalanceSheet",
                "2023-12-31 against 2022-12-31",
                tool("finance.get_balance_sheet", {"date": "2023-12-31"}),
                lambda: bs_sql(env, company),
                lambda result: result["assets"]["total"],
            ),
            (
                "GetTrialBalance",
                "2023 (opening, period, closing)",
                tool("finance.get_trial_balance", {"date_from": "2023-01-01", "date_to": "2023-12-31"}),
                lambda: tb_sql(env, company),
                lambda result: [
                    (row["code"], row["opening"], row["debit"], row["credit"], row["closing"])
                    for row in result["accounts"]
                ],
            ),
            (
                "GetTaxTotals",
                "2023",
                tool("finance.get_tax_totals", {"date_from": "2023-01-01", "date_to": "2023-12-31"}),
                lambda: tax_sql(env, company),
                lambda result: sorted(
                    [abs(row["tax_amount"]) for row in result["taxes"]]
                    + [abs(row["base"]) for row in result["taxes"]]
                ),
            ),
            (
                "GetOverdueInvoices",
                "customer invoices overdue today, top 20",
                tool("finance.get_overdue_invoices", {}),
                lambda: overdue_sql(env, company, today),
                lambda result: (
                    result["count"],
                    result["total_open_amount"],
                    [(row["number"], row["open_amount"]) for row in result["invoices"]],
                ),
            ),
            (
                "GetUnmatchedPayments",
                "not on a statement, oldest 20",
                tool("finance.get_unmatched_payments", {}),
                lambda: payments_sql(env, company),
                lambda result: (
                    {kind: (entry["count"], entry["amount"]) for kind, entry in result["totals"].items()},
                    [(row["name"], row["amount"], sorted(row["pays"])) for row in result["payments"]],
                ),
            ),
        ]
        table = []
        for name, question, run, baseline, figures in cases:
            if args.tools and name not in args.tools:
                continue
            tool_ms, tool_result, sql_ms, sql_result = timed_pair(run, baseline, args.runs, env)
            assert close(figures(tool_result), sql_result), (
                f"{name} ({question}) disagrees with the SQL: {figures(tool_result)} != {sql_result}"
            )
            table.append((name, question, tool_ms, sql_ms))
        env.cr.rollback()
    print(
        f"{args.invoices:,} invoices and bills, {items:,} journal items in the bench company; "
        f"median of {args.runs} interleaved runs; each tool agrees with its SQL"
    )
    print("| tool | question | tool (ms) | hand-written SQL (ms) | tool / SQL |")
    print("|---|---|---|---|---|")
    for name, question, tool_ms, sql_ms in table:
        print(f"| {name} | {question} | {tool_ms:.0f} | {sql_ms:.0f} | {tool_ms / sql_ms:.2f}x |")


if __name__ == "__main__":
    main()
