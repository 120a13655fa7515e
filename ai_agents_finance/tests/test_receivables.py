from collections import defaultdict
from datetime import date

from odoo import fields
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceReportsCase

AGED = "finance.get_aged_balance"
OVERDUE = "finance.get_overdue_invoices"
PAYMENTS = "finance.get_unmatched_payments"
BUCKETS = ("not_due", "1-30", "31-60", "61-90", "91-120", "older")


def bucket_of(days):
    """The column of Odoo's aged partner balance for an item ``days`` past due."""
    if days <= 0:
        return "not_due"
    for key, high in (("1-30", 30), ("31-60", 60), ("61-90", 90), ("91-120", 120)):
        if days <= high:
            return key
    return "older"


@tagged("post_install", "-at_install")
class TestReceivablesTools(FinanceReportsCase):
    """GetAgedBalance, GetOverdueInvoices and GetUnmatchedPayments against Odoo's own fields."""

    def odoo_aging(self, company, account_type, as_of, sign=1):
        """{partner name: {bucket: amount}} from Odoo's residual amounts (``amount_residual``,
        company currency) of the posted items grouped by partner and due date: the aged report's
        figures when no reconciliation is dated after ``as_of``."""
        groups = (
            self.env["account.move.line"]
            .with_company(company)
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                    ("account_id.account_type", "=", account_type),
                    ("date", "<=", as_of),
                ],
                ["partner_id", "date_maturity:day", "date:day"],
                ["amount_residual:sum"],
            )
        )
        result = defaultdict(lambda: dict.fromkeys(BUCKETS, 0.0))
        for partner, maturity, day, residual in groups:
            if residual:
                due = maturity or day
                result[partner.display_name][bucket_of((fields.Date.to_date(as_of) - due).days)] += (
                    sign * residual
                )
        return {
            name: {
                **{key: round(value, 2) for key, value in row.items()},
                "total": round(sum(row.values()), 2),
            }
            for name, row in result.items()
            if any(round(value, 2) for value in row.values())
        }

    def tool_aging(self, result):
        return {row["partner"]: {key: row[key] for key in (*BUCKETS, "total")} for row in result["partners"]}

    # === GetAgedBalance === #

    def test_aged_receivables_are_odoos_residuals_in_odoos_buckets(self):
        for as_of in ("2019-04-15", "2019-12-31", "2019-03-05"):
            with self.subTest(as_of=as_of):
                result = self.call(AGED, {"date": as_of})
                # Before 2019-04-10 the partial payment is later than the date: compared below.
                if as_of != "2019-03-05":
                    self.assertEqual(
                        self.tool_aging(result), self.odoo_aging(self.company_a, "asset_receivable", as_of)
                    )
                self.assertEqual(
                    result["totals"]["total"], round(sum(r["total"] for r in result["partners"]), 2)
                )
        # On 2019-04-15 the buckets are spread: partner_a's first invoice 95 days past due, the
        # second (2300, 1000 paid) 43 days; the EUR invoice (600 EUR = 300 USD) 45 days; the
        # refund 26 days.
        spread = self.tool_aging(self.call(AGED, {"date": "2019-04-15"}))
        self.assertEqual(spread[self.partner_a.display_name]["91-120"], self.inv_tax.amount_residual_signed)
        self.assertEqual(spread[self.partner_a.display_name]["31-60"], self.inv_due.amount_residual_signed)
        # partner_b's EUR invoice (600 EUR = 300 USD) and its refund, each per installment.
        self.assertEqual(
            spread[self.partner_b.display_name]["total"],
            self.inv_eur.amount_residual_signed + self.refund.amount_residual_signed,
        )
        result = self.call(AGED, {"date": "2019-04-15"})
        self.assertEqual(
            (result["currency"], result["company"], result["kind"]),
            ("USD", self.company_a.name, "receivable"),
        )

    def test_payments_after_the_date_are_not_deducted(self):
        # On 2019-03-31 the 1000 received on 2019-04-10 is not there yet: inv_due is open in full.
        before = self.tool_aging(self.call(AGED, {"date": "2019-03-31"}))
        self.assertEqual(before[self.partner_a.display_name]["1-30"], self.inv_due.amount_total_signed)
        after = self.tool_aging(self.call(AGED, {"date": "2019-04-30"}))
        self.assertEqual(after[self.partner_a.display_name]["31-60"], self.inv_due.amount_residual_signed)
        self.assertEqual(
            before[self.partner_a.display_name]["total"] - after[self.partner_a.display_name]["total"],
            self.pay_partial.amount_company_currency_signed,
        )

    def test_aged_payables_read_positive(self):
        result = self.call(AGED, {"kind": "payable", "date": "2019-04-15"})
        expected = self.odoo_aging(self.company_a, "liability_payable", "2019-04-15", sign=-1)
        self.assertEqual(self.tool_aging(result), expected)
        # The paid bill is gone; the taxed bill is aged per installment of partner_b's payment
        # terms (each on its own due date), for all it is open.
        installments = self.bill_tax.line_ids.filtered(lambda line: line.account_type == "liability_payable")
        self.assertGreater(len(installments), 1)
        [row] = result["partners"]
        self.assertEqual(row["total"], -self.bill_tax.amount_residual_signed)
        self.assertEqual(
            len([key for key in BUCKETS if row[key]]), len(set(installments.mapped("date_maturity")))
        )

    def test_partner_filter_and_truncation(self):
        result = self.call(AGED, {"date": "2019-04-15", "partner": "partner_b"})
        self.assertEqual([row["partner"] for row in result["partners"]], [self.partner_b.display_name])
        self.assertEqual(result["filters"], {"partner": self.partner_b.display_name})
        top = self.call(AGED, {"date": "2019-04-15", "limit": 1})
        self.assertEqual([row["partner"] for row in top["partners"]], [self.partner_a.display_name])
        self.assertTrue(top["truncated"])
        self.assertEqual(top["partner_count"], 2)
        # The totals stay those of every partner.
        self.assertEqual(top["totals"], self.call(AGED, {"date": "2019-04-15"})["totals"])

    def test_each_company_ages_its_own_books(self):
        in_b = self.call(AGED, {"date": "2019-12-31"}, user=self.accountant_b)
        self.assertEqual(
            self.tool_aging(in_b), self.odoo_aging(self.company_b, "asset_receivable", "2019-12-31")
        )
        self.assertEqual(
            in_b["totals"]["total"], self.inv_b.amount_residual_signed + self.inv_b_due.amount_residual_signed
        )
        # The accountant of both companies, in a session of company A, gets company A's only:
        # partner_a's 5000 owed to company B is not there.
        in_a = self.call(AGED, {"date": "2019-12-31", "partner": self.partner_a.id})
        self.assertEqual(
            in_a["totals"]["total"], self.inv_tax.amount_residual_signed + self.inv_due.amount_residual_signed
        )
        # No argument names a company.
        with self.assertRaises(ToolInputError):
            self.call(AGED, {"date": "2019-12-31", "company_id": self.company_b.id})

    # === GetOverdueInvoices === #

    def test_overdue_invoices_are_odoos_open_invoices_past_due(self):
        today = fields.Date.context_today(self.accountant)
        Move = self.env["account.move"]
        overdue = Move.search(
            [
                ("company_id", "=", self.company_a.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("amount_residual", "!=", 0),
                ("invoice_date_due", "<", today),
            ],
            order="invoice_date_due, id",
        )
        self.assertEqual(overdue, self.inv_tax + self.inv_eur + self.inv_due)
        result = self.call(OVERDUE)
        self.assertEqual(
            [
                (
                    row["number"],
                    row["open_amount"],
                    row["due_date"],
                    row["days_overdue"],
                    row["payment_state"],
                )
                for row in result["invoices"]
            ],
            [
                (
                    move.name,
                    move.amount_residual_signed,
                    move.invoice_date_due.isoformat(),
                    (today - move.invoice_date_due).days,
                    move.payment_state,
                )
                for move in overdue
            ],
        )
        self.assertEqual(result["count"], 3)
        self.assertEqual(result["total_open_amount"], sum(overdue.mapped("amount_residual_signed")))
        self.assertEqual(result["currency"], "USD")
        eur = next(row for row in result["invoices"] if row["number"] == self.inv_eur.name)
        self.assertEqual(
            eur["open_amount_in_invoice_currency"],
            {"amount": self.inv_eur.amount_residual, "currency": "EUR"},
        )

    def test_follow_up_status_is_the_invoices_chatter(self):
        reminder = self.inv_tax.message_post(
            body="Reminder: this invoice is overdue.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        reminder.date = "2019-05-02 10:00:00"
        # An internal note is not a reminder sent to the customer.
        note = self.inv_tax.message_post(body="Called, no answer", subtype_xmlid="mail.mt_note")
        note.date = "2019-06-01 10:00:00"
        activity = self.inv_due.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=date(2019, 5, 20), summary="Call the customer"
        )
        rows = {row["number"]: row for row in self.call(OVERDUE)["invoices"]}
        self.assertEqual(rows[self.inv_tax.name]["last_message_sent"], "2019-05-02")
        self.assertIsNone(rows[self.inv_due.name]["last_message_sent"])
        self.assertEqual(
            rows[self.inv_due.name]["next_activity"],
            {
                "type": activity.activity_type_id.name,
                "summary": "Call the customer",
                "deadline": "2019-05-20",
                "assigned_to": activity.user_id.name,
            },
        )
        self.assertEqual(rows[self.inv_due.name]["payment_state"], "partial")
        self.assertEqual(rows[self.inv_tax.name]["sent"], self.inv_tax.is_move_sent)

    def test_overdue_bills_order_and_filters(self):
        bills = self.call(OVERDUE, {"kind": "payable"})
        # The paid bill is not overdue; the taxed bill is, for its full 460.
        self.assertEqual(
            [(row["number"], row["open_amount"]) for row in bills["invoices"]],
            [(self.bill_tax.name, -self.bill_tax.amount_residual_signed)],
        )
        by_amount = self.call(OVERDUE, {"order": "amount", "limit": 1})
        self.assertEqual([row["number"] for row in by_amount["invoices"]], [self.inv_due.name])
        self.assertTrue(by_amount["truncated"])
        only_b = self.call(OVERDUE, {"partner": "partner_b"})
        self.assertEqual([row["number"] for row in only_b["invoices"]], [self.inv_eur.name])
        in_b = self.call(OVERDUE, user=self.accountant_b)
        self.assertEqual(
            [(row["number"], row["open_amount"]) for row in in_b["invoices"]],
            [(self.inv_b_due.name, self.inv_b_due.amount_residual_signed)],
        )

    # === GetUnmatchedPayments === #

    def test_unmatched_payments_are_odoos_payments_not_matched_with_a_statement(self):
        Payment = self.env["account.payment"]
        self.assertTrue(self.pay_matched.is_matched)
        self.assertFalse(self.pay_partial.is_matched)
        unmatched = Payment.search(
            [("company_id", "=", self.company_a.id), ("state", "!=", "draft"), ("is_matched", "=", False)]
        )
        result = self.call(PAYMENTS)
        self.assertEqual([row["name"] for row in result["payments"]], unmatched.sorted("date").mapped("name"))
        [row] = result["payments"]
        self.assertEqual(
            (row["direction"], row["amount"], row["amount_company_currency"], row["pays"], row["journal"]),
            ("inbound", 1000.0, self.pay_partial.amount_company_currency_signed, [self.inv_due.name], "BNK1"),
        )
        self.assertEqual(result["totals"], {"inbound": {"count": 1, "amount": 1000.0}})
        self.assertEqual(self.call(PAYMENTS, {"direction": "outbound"})["count"], 0)
        self.assertEqual(self.call(PAYMENTS, {"date_to": "2019-04-09"})["count"], 0)

    def test_a_payment_in_euros_is_given_in_euros_and_in_the_company_currency(self):
        payment = self._register_payment(
            self.inv_eur,
            amount=200.0,
            currency_id=self.eur.id,
            payment_date="2019-05-02",
            journal_id=self.bank.id,
        )
        self.assertFalse(payment.is_matched)
        rows = {row["name"]: row for row in self.call(PAYMENTS)["payments"]}
        self.assertEqual(
            {
                key: rows[payment.name][key]
                for key in ("amount", "currency", "amount_company_currency", "pays")
            },
            {
                "amount": payment.amount,
                "currency": "EUR",
                "amount_company_currency": payment.amount_company_currency_signed,
                "pays": [self.inv_eur.name],
            },
        )
        # 200 EUR at 0.5: 100 USD, beside the 1000 USD received on inv_due.
        self.assertEqual(
            self.call(PAYMENTS)["totals"]["inbound"],
            {
                "count": 2,
                "amount": self.pay_partial.amount_company_currency_signed
                + payment.amount_company_currency_signed,
            },
        )

    def test_the_documents_paid_are_odoos_reconciled_invoices_and_bills_the_user_may_read(self):
        # A branch of company A: a payment of company A may pay the branch's invoices, which the
        # accountant (companies A and B) may not read.
        branch = self._create_company(name="Company A Branch", parent_id=self.company_a.id)
        self.accountant_branch = self.new_user(
            "fin_accountant_branch",
            "account.group_account_readonly,ai_core.group_aia_user",
            self.company_a + branch,
        )
        inv_1, inv_2, inv_3 = (
            self.init_invoice("out_invoice", self.partner_a, day, amounts=[amount], taxes=[], post=True)
            for day, amount in (("2019-05-01", 300.0), ("2019-05-02", 200.0), ("2019-05-04", 100.0))
        )
        inv_branch = self.init_invoice(
            "out_invoice", self.partner_a, "2019-05-03", amounts=[400.0], taxes=[], company=branch, post=True
        )
        bill_2 = self.init_invoice(
            "in_invoice", self.partner_b, "2019-05-05", amounts=[1000.0], taxes=[], post=True
        )
        both = self._register_payment(inv_1 + inv_2, payment_date="2019-05-10", journal_id=self.bank.id)
        across = (
            self.env["account.payment.register"]
            .with_context(
                active_model="account.move",
                active_ids=(inv_3 + inv_branch).ids,
                allowed_company_ids=(self.company_a + branch).ids,
            )
            .create({"group_payment": True, "payment_date": "2019-05-11", "journal_id": self.bank.id})
            ._create_payments()
        )
        half_bill = self._register_payment(
            bill_2, amount=400.0, payment_date="2019-05-12", journal_id=self.bank.id
        )
        self.env.invalidate_all()
        # Odoo's own computation (as superuser: every company).
        odoo = {
            payment.name: payment.reconciled_invoice_ids | payment.reconciled_bill_ids
            for payment in (self.pay_partial + both + across + half_bill).sudo()
        }
        self.assertEqual(across.company_id, self.company_a)
        self.assertEqual(odoo[across.name], inv_3 + inv_branch)
        self.assertEqual(half_bill.sudo().reconciled_bill_ids, bill_2)
        self.assertEqual(bill_2.payment_state, "partial")
        self.assertEqual(self.inv_due.payment_state, "partial")
        for user, companies in (
            (self.accountant, self.company_a + self.company_b),
            (self.accountant_branch, self.company_a + branch),
        ):
            with self.subTest(user=user.login):
                rows = {row["name"]: row for row in self.call(PAYMENTS, user=user)["payments"]}
                self.assertEqual(set(rows), set(odoo))
                readable_moves = (
                    self.env["account.move"].with_user(user).with_context(allowed_company_ids=companies.ids)
                )
                for name, documents in odoo.items():
                    readable = readable_moves.search([("id", "in", documents.ids)])
                    self.assertEqual(sorted(rows[name]["pays"]), sorted(readable.mapped("name")))
                    self.assertEqual(rows[name].get("pays_not_readable", 0), len(documents - readable))
        rows = {row["name"]: row for row in self.call(PAYMENTS)["payments"]}
        self.assertEqual(rows[self.pay_partial.name]["pays"], [self.inv_due.name])
        self.assertEqual(rows[both.name]["pays"], [inv_1.name, inv_2.name])
        # The branch's invoice is counted, not named.
        self.assertEqual(rows[across.name]["pays"], [inv_3.name])
        self.assertEqual(rows[across.name]["pays_not_readable"], 1)
        self.assertEqual(rows[half_bill.name]["pays"], [bill_2.name])
        # Who may read the branch reads it, in date order.
        in_branch = {row["name"]: row for row in self.call(PAYMENTS, user=self.accountant_branch)["payments"]}
        self.assertEqual(in_branch[across.name]["pays"], [inv_branch.name, inv_3.name])
        self.assertNotIn("pays_not_readable", in_branch[across.name])

    def test_each_company_sees_its_own_unmatched_payments(self):
        in_b = self.call(PAYMENTS, user=self.accountant_b)
        self.assertEqual([row["name"] for row in in_b["payments"]], [self.pay_b.name])
        self.assertEqual(in_b["company"], "Company B")
        # company B's bank journal, named from a session of company A, is refused.
        with self.assertRaisesRegex(ToolInputError, "belongs to Company B"):
            self.call(PAYMENTS, {"journal": self.bank_b.id})

    def test_report_tools_refuse_users_without_accounting_rights(self):
        for name in (AGED, OVERDUE, PAYMENTS):
            with self.subTest(tool=name):
                self.assertDenied(name)
