from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceCase

GL = "finance.get_gl_balance"
ACCOUNTS = "finance.list_gl_accounts"
YEAR_END = "2019-12-31"


@tagged("post_install", "-at_install")
class TestLedgerTools(FinanceCase):
    """GetGLBalance and ListGLAccounts (one class: the books take a while to build)."""

    def _by_code(self, result):
        return {row["code"]: (row["debit"], row["credit"], row["balance"]) for row in result["accounts"]}

    def test_receivables_as_of_a_date_in_the_company_currency(self):
        result = self.call(GL, {"account_types": ["asset_receivable"], "date_to": YEAR_END})
        partner_b_receivable = self.partner_b.property_account_receivable_id
        # 1150 (with tax) for partner_a; 500 paid + 600 EUR at 0.5 for partner_b.
        self.assertEqual(
            self._by_code(result),
            {self.receivable.code: (1150.0, 0.0, 1150.0), partner_b_receivable.code: (800.0, 500.0, 300.0)},
        )
        self.assertEqual(result["totals"], {"debit": 1950.0, "credit": 500.0, "balance": 1450.0})
        self.assertEqual((result["currency"], result["company"]), ("USD", self.company_a.name))
        self.assertEqual((result["date_from"], result["entries"]), (None, "posted"))
        self.assertFalse(result["truncated"])

    def test_every_posted_entry_balances_and_no_other_company_is_counted(self):
        result = self.call(GL, {"date_to": YEAR_END, "limit": 200})
        # Invoices 1150 + 800 + 500 + 300 and bank lines 1150 + 800 + 250 + 500 + 30 + 300; company
        # B's 7000 invoice and 7000 bank line are not there.
        self.assertEqual(result["totals"], {"debit": 5780.0, "credit": 5780.0, "balance": 0.0})
        rows = self._by_code(result)
        self.assertEqual(rows[self.revenue.code], (0.0, 1800.0, -1800.0))
        self.assertEqual(rows[self.company_data["default_account_tax_sale"].code], (0.0, 150.0, -150.0))
        self.assertEqual(rows[self.bank.default_account_id.code], (1900.0, 800.0, 1100.0))
        self.assertEqual(rows[self.bank_eur.default_account_id.code], (300.0, 0.0, 300.0))
        self.assertEqual(result["account_count"], 10)

    def test_a_date_range_gives_the_movements_of_the_period(self):
        result = self.call(
            GL, {"account_types": ["asset_receivable"], "date_from": "2019-02-01", "date_to": "2019-02-28"}
        )
        # February: the 500 invoice of partner_b and its payment.
        self.assertEqual(
            self._by_code(result), {self.partner_b.property_account_receivable_id.code: (500.0, 500.0, 0.0)}
        )
        self.assertEqual(result["date_from"], "2019-02-01")

    def test_drafts_only_on_request(self):
        args = {"account_code": self.receivable.code, "date_to": YEAR_END}
        self.assertEqual(self.call(GL, args)["totals"]["balance"], 1150.0)
        with_drafts = self.call(GL, {**args, "include_draft": True})
        self.assertEqual(with_drafts["totals"]["balance"], 2149.0)
        self.assertEqual(with_drafts["entries"], "posted and draft")

    def test_filters_by_partner_journal_and_code_prefix(self):
        by_partner = self.call(
            GL, {"account_types": ["asset_receivable"], "partner": "partner_b", "date_to": YEAR_END}
        )
        # The bank line that paid partner_b's 500 has no partner, so neither has its counterpart:
        # by partner, only the two invoices count (as in Odoo's partner ledger).
        self.assertEqual(by_partner["totals"], {"debit": 800.0, "credit": 0.0, "balance": 800.0})
        by_id = self.call(
            GL, {"account_types": ["asset_receivable"], "partner": self.partner_a.id, "date_to": YEAR_END}
        )
        self.assertEqual(by_id["totals"]["balance"], 1150.0)
        # The bank journal's lines on the 1014xx accounts: the bank account and the suspense account
        # (the paid line's counterpart went to the receivable, outside the prefix).
        by_journal = self.call(GL, {"journal": "BNK1", "account_code": "1014", "date_to": YEAR_END})
        suspense = self.bank.suspense_account_id
        self.assertEqual(
            self._by_code(by_journal),
            {
                self.bank.default_account_id.code: (1900.0, 800.0, 1100.0),
                suspense.code: (800.0, 1400.0, -600.0),
            },
        )

    def test_analytic_filter_keeps_the_lines_of_the_analytic_account(self):
        for value in ("Project X", "PX", self.project_x.id):
            result = self.call(GL, {"analytic_account": value, "date_to": YEAR_END})
            self.assertEqual(self._by_code(result), {self.revenue.code: (0.0, 500.0, -500.0)}, value)

    def test_top_balances_are_kept_when_truncated(self):
        result = self.call(GL, {"date_to": YEAR_END, "order": "balance", "limit": 2})
        self.assertEqual([row["balance"] for row in result["accounts"]], [-1800.0, 1150.0])
        self.assertTrue(result["truncated"])
        self.assertEqual(result["account_count"], 10)
        # Totals stay those of every account.
        self.assertEqual(result["totals"]["debit"], 5780.0)

    def test_gl_balance_bad_input_is_a_clear_error(self):
        cases = [
            ({"account_code": "9876"}, "no account code starts with '9876'"),
            ({"date_from": "2019-03-01", "date_to": "2019-01-01"}, "range is reversed"),
            ({"account_types": ["asset_bogus"]}, "unknown account type"),
            ({"journal": "NOPE"}, "no journal 'NOPE'"),
            ({"partner": "Nobody At All"}, "no partner named"),
            ({"analytic_account": "Project Z"}, "no analytic account"),
        ]
        self.assertInputErrors(GL, cases)

    def test_a_user_of_company_b_sees_company_b_figures_only(self):
        result = self.call(
            GL, {"account_types": ["asset_receivable"], "date_to": YEAR_END}, user=self.accountant_b
        )
        self.assertEqual((result["company"], result["totals"]["balance"]), ("Company B", 7000.0))
        everything = self.call(GL, {"date_to": YEAR_END}, user=self.accountant_b)
        # Company B's invoice and bank line only.
        self.assertEqual(everything["totals"]["debit"], 14000.0)

    def test_a_journal_of_another_company_is_refused(self):
        with self.assertRaisesRegex(ToolInputError, "belongs to Company B"):
            self.call(GL, {"journal": self.bank_b.id})

    # === ListGLAccounts === #

    def test_lists_accounts_with_type_group_path_and_reconcilable(self):
        Group = self.env["account.group"].with_company(self.company_a)
        Group.create({"name": "Assets", "code_prefix_start": "1", "code_prefix_end": "1"})
        Group.create({"name": "Receivables", "code_prefix_start": "121", "code_prefix_end": "121"})
        result = self.call(ACCOUNTS, {"account_code": "121"})
        rows = {row["code"]: row for row in result["accounts"]}
        self.assertEqual(
            rows[self.receivable.code],
            {
                "code": self.receivable.code,
                "name": self.receivable.name,
                "type": "asset_receivable",
                "reconcilable": True,
                "group": "1 Assets > 121 Receivables",
            },
        )
        self.assertIn(self.partner_b.property_account_receivable_id.code, rows)
        self.assertEqual(result["count"], len(rows))
        self.assertFalse(result["truncated"])

    def test_filters_by_type_and_counts_per_type(self):
        result = self.call(ACCOUNTS, {"account_types": ["asset_cash"]})
        codes = [row["code"] for row in result["accounts"]]
        expected = (self.bank + self.cash + self.bank_eur).default_account_id
        self.assertEqual(sorted(codes), sorted(expected.mapped("code")))
        self.assertEqual(result["count_by_type"], {"asset_cash": 3})
        everything = self.call(ACCOUNTS, {"limit": 5})
        self.assertEqual(len(everything["accounts"]), 5)
        self.assertTrue(everything["truncated"])
        self.assertEqual(everything["count"], sum(everything["count_by_type"].values()))
        self.assertGreater(everything["count"], 40)

    def test_each_company_sees_its_own_chart(self):
        # partner_b's receivable copy exists in company A's chart only.
        copy_code = self.partner_b.property_account_receivable_id.code
        in_b = self.call(ACCOUNTS, {"account_code": "121"}, user=self.accountant, company=self.company_b)
        self.assertNotIn(copy_code, [row["code"] for row in in_b["accounts"]])
        self.assertEqual(in_b["company"], "Company B")

    def test_invoicing_users_get_the_list_without_the_group_hierarchy(self):
        # Account groups are readable by accountants only; the list still answers.
        result = self.call(ACCOUNTS, {"account_code": self.receivable.code}, user=self.billing_user)
        self.assertEqual([row["code"] for row in result["accounts"]], [self.receivable.code])
        self.assertNotIn("group", result["accounts"][0])

    def test_list_accounts_unknown_code_is_a_clear_error(self):
        with self.assertRaisesRegex(ToolInputError, "no account code starts with '0000'"):
            self.call(ACCOUNTS, {"account_code": "0000"})
