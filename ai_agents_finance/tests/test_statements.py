from collections import defaultdict

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceReportsCase

PL = "finance.get_profit_and_loss"
BS = "finance.get_balance_sheet"
TB = "finance.get_trial_balance"
TAX = "finance.get_tax_totals"

# The account types of each line of Odoo's profit and loss and balance sheet reports, with the
# sign that makes income, liabilities and equity read positive.
PL_SECTIONS = {
    "income": (("income",), -1),
    "cost_of_revenue": (("expense_direct_cost",), 1),
    "other_income": (("income_other",), -1),
    "expenses": (("expense", "expense_depreciation"), 1),
    "other_expenses": (("expense_other",), 1),
}
BS_SECTIONS = {
    "current_assets": (("asset_cash", "asset_receivable", "asset_current", "asset_prepayments"), 1),
    "fixed_assets": (("asset_fixed",), 1),
    "non_current_assets": (("asset_non_current",), 1),
    "current_liabilities": (("liability_current", "liability_payable", "liability_credit_card"), -1),
    "non_current_liabilities": (("liability_non_current",), -1),
    "equity": (("equity",), -1),
}
PL_TYPES = tuple(t for types, _sign in PL_SECTIONS.values() for t in types)


@tagged("post_install", "-at_install")
class TestStatementTools(FinanceReportsCase):
    """GetProfitAndLoss, GetBalanceSheet, GetTrialBalance and GetTaxTotals against Odoo's grouped
    reads of the journal items and its tax details query."""

    def odoo_balances(self, company, domain):
        """{account: balance} from Odoo's grouped read of the posted journal items."""
        return {
            account: balance
            for account, balance in self.env["account.move.line"]
            .with_company(company)
            ._read_group(
                [("company_id", "=", company.id), ("parent_state", "=", "posted"), *domain],
                ["account_id"],
                ["balance:sum"],
            )
        }

    def odoo_sections(self, company, sections, domain):
        balances = self.odoo_balances(company, domain)
        return {
            key: round(sign * sum(b for account, b in balances.items() if account.account_type in types), 2)
            for key, (types, sign) in sections.items()
        }

    def period(self, start, end):
        return [("date", ">=", start), ("date", "<=", end)]

    # === GetProfitAndLoss === #

    def test_profit_and_loss_is_odoos_balances_by_account_type_with_the_previous_period(self):
        result = self.call(PL, {"date_from": "2019-03-01", "date_to": "2019-03-31"})
        self.assertEqual(result["comparison_period"], {"date_from": "2019-02-01", "date_to": "2019-02-28"})
        for column, (start, end) in (
            ("current", ("2019-03-01", "2019-03-31")),
            ("previous", ("2019-02-01", "2019-02-28")),
        ):
            expected = self.odoo_sections(self.company_a, PL_SECTIONS, self.period(start, end))
            self.assertEqual({key: s["totals"][column] for key, s in result["sections"].items()}, expected)
            net = (
                expected["income"]
                + expected["other_income"]
                - expected["cost_of_revenue"]
                - expected["expenses"]
                - expected["other_expenses"]
            )
            self.assertAlmostEqual(result["net_profit"][column], net, places=2)
            self.assertAlmostEqual(
                result["gross_profit"][column], expected["income"] - expected["cost_of_revenue"], places=2
            )
        # March: the EUR invoice (600 EUR = 300 USD) less partner_b's refund of 100; other income:
        # the 100 of an account archived since, still in the statement.
        self.assertEqual(result["sections"]["income"]["totals"]["current"], 200.0)
        other = result["sections"]["other_income"]["accounts"]
        self.assertEqual([(a["code"], a["current"]) for a in other], [(self.closed_account.code, 100.0)])
        self.assertEqual((result["currency"], result["entries"]), ("USD", "posted"))

    def test_comparison_choices(self):
        args = {"date_from": "2019-01-01", "date_to": "2019-03-31"}
        year = self.call(PL, {**args, "comparison": "previous_year"})
        self.assertEqual(year["comparison_period"], {"date_from": "2018-01-01", "date_to": "2018-03-31"})
        self.assertEqual(year["net_profit"]["previous"], 0.0)
        none = self.call(PL, {**args, "comparison": "none"})
        self.assertIsNone(none["comparison_period"])
        self.assertEqual(set(none["net_profit"]), {"current"})
        explicit = self.call(PL, {**args, "compare_date_from": "2019-02-01", "compare_date_to": "2019-02-28"})
        expected = self.odoo_sections(self.company_a, PL_SECTIONS, self.period("2019-02-01", "2019-02-28"))
        self.assertEqual(explicit["sections"]["income"]["totals"]["previous"], expected["income"])
        self.assertInputErrors(
            PL,
            [
                (
                    {**args, "compare_date_from": "2019-02-01"},
                    "give both compare_date_from and compare_date_to",
                ),
                ({"date_from": "2019-04-01", "date_to": "2019-01-01"}, "range is reversed"),
            ],
        )

    def test_profit_and_loss_of_company_b(self):
        result = self.call(PL, {"date_from": "2019-01-01", "date_to": "2019-12-31"}, user=self.accountant_b)
        expected = self.odoo_sections(self.company_b, PL_SECTIONS, self.period("2019-01-01", "2019-12-31"))
        self.assertEqual({key: s["totals"]["current"] for key, s in result["sections"].items()}, expected)
        self.assertEqual(result["net_profit"]["current"], 7900.0)

    # === GetBalanceSheet === #

    def test_balance_sheet_balances_and_is_odoos_balances_by_account_type(self):
        for company, user, as_of in (
            (self.company_a, self.accountant, "2019-12-31"),
            (self.company_a, self.accountant, "2019-03-15"),
            (self.company_b, self.accountant_b, "2019-12-31"),
        ):
            with self.subTest(company=company.name, date=as_of):
                result = self.call(BS, {"date": as_of}, user=user)
                expected = self.odoo_sections(company, BS_SECTIONS, [("date", "<=", as_of)])
                sections = {**result["assets"]["sections"], **result["liabilities"]["sections"]}
                sections.update(result["equity"]["sections"])
                self.assertEqual({key: s["totals"]["current"] for key, s in sections.items()}, expected)
                # Current year earnings: income minus expenses since the fiscal year's start.
                earnings = self.odoo_balances(company, [("date", ">=", "2019-01-01"), ("date", "<=", as_of)])
                self.assertAlmostEqual(
                    result["equity"]["current_year_earnings"]["current"],
                    -sum(b for account, b in earnings.items() if account.account_type in PL_TYPES),
                    places=2,
                )
                # Assets = liabilities + equity.
                self.assertEqual(
                    result["assets"]["total"]["current"], result["liabilities_and_equity"]["current"]
                )
                self.assertGreater(result["assets"]["total"]["current"], 0)
                self.assertEqual(result["comparison_date"], "2018-12-31")

    def test_previous_years_earnings_and_comparison_dates(self):
        result = self.call(BS, {"date": "2020-06-30", "comparison": "same_date_last_year"})
        self.assertEqual(result["comparison_date"], "2019-06-30")
        # In 2020 the 2019 profit is previous years' earnings; nothing was earned in 2020 yet.
        profit_2019 = self.call(PL, {"date_from": "2019-01-01", "date_to": "2019-12-31"})["net_profit"][
            "current"
        ]
        self.assertEqual(result["equity"]["previous_years_earnings"]["current"], profit_2019)
        self.assertEqual(result["equity"]["current_year_earnings"]["current"], 0.0)
        self.assertEqual(result["equity"]["current_year_earnings"]["previous"], round(profit_2019, 2))
        self.assertEqual(result["assets"]["total"], result["liabilities_and_equity"])
        explicit = self.call(BS, {"date": "2019-12-31", "compare_date": "2019-03-15"})
        march = self.call(BS, {"date": "2019-03-15", "comparison": "none"})
        self.assertEqual(explicit["assets"]["total"]["previous"], march["assets"]["total"]["current"])
        self.assertIsNone(march["comparison_date"])

    def test_a_company_keeping_its_books_in_euros_reports_in_euros(self):
        company = self.setup_other_company(name="Company EUR", currency_id=self.eur.id)["company"]
        accountant = self.new_user(
            "fin_accountant_eur", "account.group_account_readonly,ai_core.group_aia_user", company
        )
        usd = self.env.ref("base.USD")
        # 2 USD to the euro in that company: a 200 USD invoice is 100 EUR of its books.
        self.env["res.currency.rate"].create(
            {"name": "2019-01-01", "rate": 2.0, "currency_id": usd.id, "company_id": company.id}
        )
        in_eur = self.init_invoice(
            "out_invoice", self.partner_a, "2019-02-01", amounts=[500.0], taxes=[], company=company, post=True
        )
        in_usd = self.init_invoice(
            "out_invoice",
            self.partner_a,
            "2019-02-01",
            amounts=[200.0],
            taxes=[],
            company=company,
            currency=usd,
            post=True,
        )
        self.assertEqual(in_usd.amount_total_signed, 100.0)
        pl = self.call(PL, {"date_from": "2019-02-01", "date_to": "2019-02-28"}, user=accountant)
        expected = self.odoo_sections(company, PL_SECTIONS, self.period("2019-02-01", "2019-02-28"))
        self.assertEqual(
            (pl["currency"], pl["sections"]["income"]["totals"]["current"]), ("EUR", expected["income"])
        )
        self.assertEqual(expected["income"], in_eur.amount_total_signed + in_usd.amount_total_signed)
        bs = self.call(BS, {"date": "2019-12-31"}, user=accountant)
        self.assertEqual(bs["currency"], "EUR")
        self.assertEqual(bs["assets"]["total"], bs["liabilities_and_equity"])
        self.assertEqual(bs["equity"]["current_year_earnings"]["current"], expected["income"])
        aged = self.call("finance.get_aged_balance", {"date": "2019-12-31"}, user=accountant)
        self.assertEqual((aged["currency"], aged["totals"]["total"]), ("EUR", expected["income"]))

    # === GetTrialBalance === #

    def test_trial_balance_columns_are_odoos_sums_before_and_during_the_period(self):
        result = self.call(TB, {"date_from": "2019-02-01", "date_to": "2019-03-31"})
        Line = self.env["account.move.line"]
        base = [("company_id", "=", self.company_a.id), ("parent_state", "=", "posted")]
        expected = defaultdict(lambda: {"opening": 0.0, "debit": 0.0, "credit": 0.0, "closing": 0.0})
        for account, balance in Line._read_group(
            [*base, ("date", "<", "2019-02-01")], ["account_id"], ["balance:sum"]
        ):
            expected[account.code]["opening"] = round(balance, 2)
        for account, debit, credit in Line._read_group(
            [*base, *self.period("2019-02-01", "2019-03-31")], ["account_id"], ["debit:sum", "credit:sum"]
        ):
            expected[account.code].update(debit=round(debit, 2), credit=round(credit, 2))
        for account, balance in Line._read_group(
            [*base, ("date", "<=", "2019-03-31")], ["account_id"], ["balance:sum"]
        ):
            expected[account.code]["closing"] = round(balance, 2)
        rows = {
            row["code"]: {key: row[key] for key in ("opening", "debit", "credit", "closing")}
            for row in result["accounts"]
        }
        self.assertEqual(rows, {code: figures for code, figures in expected.items() if any(figures.values())})
        for row in result["accounts"]:
            self.assertAlmostEqual(row["opening"] + row["debit"] - row["credit"], row["closing"], places=2)
        # Every posted entry balances: the openings and closings add up to zero.
        self.assertEqual((result["totals"]["opening"], result["totals"]["closing"]), (0.0, 0.0))
        self.assertEqual(result["totals"]["debit"], result["totals"]["credit"])
        # The archived account is listed, marked archived.
        closed = next(row for row in result["accounts"] if row["code"] == self.closed_account.code)
        self.assertTrue(closed["archived"])
        self.assertFalse(result["truncated"])

    def test_trial_balance_filters_and_truncation(self):
        receivables = self.call(
            TB, {"date_from": "2019-02-01", "date_to": "2019-12-31", "account_types": ["asset_receivable"]}
        )
        self.assertEqual({row["type"] for row in receivables["accounts"]}, {"asset_receivable"})
        self.assertEqual(
            receivables["totals"]["closing"],
            self.call("finance.get_aged_balance", {"date": "2019-12-31"})["totals"]["total"],
        )
        short = self.call(TB, {"date_from": "2019-02-01", "limit": 2})
        self.assertEqual(len(short["accounts"]), 2)
        self.assertTrue(short["truncated"])
        in_b = self.call(TB, {"date_from": "2019-01-01", "date_to": "2019-12-31"}, user=self.accountant_b)
        self.assertEqual(in_b["totals"]["debit"], sum(self.odoo_debits(self.company_b)))
        with self.assertRaisesRegex(ToolInputError, "no account code starts with '0000'"):
            self.call(TB, {"date_from": "2019-01-01", "account_code": "0000"})

    def odoo_debits(self, company):
        return [
            debit
            for _account, debit in self.env["account.move.line"]
            .with_company(company)
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                    *self.period("2019-01-01", "2019-12-31"),
                ],
                ["account_id"],
                ["debit:sum"],
            )
        ]

    # === GetTaxTotals === #

    def odoo_tax_details(self, company, start, end):
        """{tax: (base, tax)} from Odoo's tax details query (what its tax report sums)."""
        Line = self.env["account.move.line"].with_company(company)
        details = Line._get_query_tax_details_from_domain(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                *self.period(start, end),
                *Line._get_tax_exigible_domain(),
            ]
        )
        rows = self.env.execute_query(
            SQL("SELECT tax_id, SUM(base_amount), SUM(tax_amount) FROM (%s) details GROUP BY tax_id", details)
        )
        taxes = self.env["account.tax"].browse(row[0] for row in rows)
        return {
            tax.name: (float(base), float(tax_amount), tax.type_tax_use)
            for tax, (_id, base, tax_amount) in zip(taxes, rows, strict=True)
        }

    def test_tax_totals_are_odoos_tax_details_signed_as_the_tax_report(self):
        result = self.call(TAX, {"date_from": "2019-01-01", "date_to": "2019-03-31"})
        odoo = self.odoo_tax_details(self.company_a, "2019-01-01", "2019-03-31")
        self.assertEqual(set(odoo), {self.tax_sale_a.name, self.tax_purchase_a.name})
        sign = {"sale": -1, "purchase": 1}
        self.assertEqual(
            {row["tax"]: (row["base"], row["tax_amount"], row["type"]) for row in result["taxes"]},
            {
                name: (round(sign[kind] * base, 2), round(sign[kind] * tax, 2), kind)
                for name, (base, tax, kind) in odoo.items()
            },
        )
        # Sales: 1000 and 2000 at 15 %; purchases: 400 at 15 %.
        self.assertEqual(result["totals"]["sale"], {"base": 3000.0, "tax": 450.0})
        self.assertEqual(result["totals"]["purchase"], {"base": 400.0, "tax": 60.0})
        self.assertEqual(result["net_tax"], 390.0)
        only_sales = self.call(TAX, {"date_from": "2019-01-01", "date_to": "2019-03-31", "type": "sale"})
        self.assertEqual([row["type"] for row in only_sales["taxes"]], ["sale"])
        self.assertNotIn("net_tax", only_sales)
        # January only: the first invoice's tax.
        january = self.call(TAX, {"date_from": "2019-01-01", "date_to": "2019-01-31"})
        self.assertEqual(january["totals"]["sale"], {"base": 1000.0, "tax": 150.0})

    def test_cash_basis_taxes_count_once_paid_as_in_odoos_tax_details(self):
        self.company_a.tax_exigibility = True
        transition = self.company_data["default_account_assets"]
        transition.reconcile = True
        cash_basis = self.env["account.tax"].create(
            {
                "name": "Cash basis 10%",
                "amount_type": "percent",
                "amount": 10.0,
                "tax_exigibility": "on_payment",
                "cash_basis_transition_account_id": transition.id,
            }
        )
        invoice = self.init_invoice(
            "out_invoice", self.partner_a, "2019-06-03", amounts=[1000.0], taxes=cash_basis, post=True
        )
        june = {"date_from": "2019-06-01", "date_to": "2019-06-30"}

        def figures():
            result = self.call(TAX, june)
            odoo = self.odoo_tax_details(self.company_a, "2019-06-01", "2019-06-30")
            self.assertEqual(
                {row["tax"]: (row["base"], row["tax_amount"]) for row in result["taxes"]},
                {name: (-base, -tax) for name, (base, tax, _kind) in odoo.items()},
            )
            return result

        # Not paid: nothing of it is due yet.
        self.assertEqual(figures()["taxes"], [])
        self._register_payment(invoice, payment_date="2019-06-20", journal_id=self.bank.id)
        # Paid in June: the cash-basis entry makes base and tax count.
        self.assertEqual(figures()["totals"]["sale"], {"base": 1000.0, "tax": 100.0})

    def test_tax_totals_of_company_b(self):
        tax_b = self.company_b_data["default_tax_sale"]
        invoice = self.init_invoice(
            "out_invoice",
            self.partner_a,
            "2019-05-05",
            amounts=[300.0],
            taxes=tax_b,
            company=self.company_b,
            post=True,
        )
        result = self.call(TAX, {"date_from": "2019-05-01", "date_to": "2019-05-31"}, user=self.accountant_b)
        odoo = self.odoo_tax_details(self.company_b, "2019-05-01", "2019-05-31")
        self.assertEqual(
            [(row["tax"], row["base"], row["tax_amount"]) for row in result["taxes"]],
            [(tax_b.name, -odoo[tax_b.name][0], -odoo[tax_b.name][1])],
        )
        self.assertEqual(result["totals"]["sale"]["tax"], invoice.amount_tax_signed)
        # Company A has no tax in May.
        self.assertEqual(self.call(TAX, {"date_from": "2019-05-01", "date_to": "2019-05-31"})["taxes"], [])

    def test_statement_tools_refuse_users_without_accounting_rights(self):
        for name, args in (
            (PL, {"date_from": "2019-01-01", "date_to": "2019-12-31"}),
            (BS, {}),
            (TB, {"date_from": "2019-01-01"}),
            (TAX, {"date_from": "2019-01-01", "date_to": "2019-12-31"}),
        ):
            with self.subTest(tool=name):
                self.assertDenied(name, args)
