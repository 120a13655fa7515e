from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceWriteCase

TOOL = "finance.reconcile_match"
WIRE = "finance_reconcile_match"


@tagged("post_install", "-at_install")
class TestReconcileMatch(FinanceWriteCase):
    """pay_a: 500 USD received from partner_a on 2019-04-01, registered without an invoice, to
    match with inv_tax (1150 USD open): a partial payment. pay_eur: 600 EUR from partner_b, the
    whole of inv_eur."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pay_a = cls.payment(cls.partner_a, 500.0, "2019-04-01")
        cls.pay_eur = cls.payment(cls.partner_b, 600.0, "2019-04-02", currency=cls.eur)
        cls.call_args = {"payment": cls.pay_a.name, "invoice": cls.inv_tax.name}

    @classmethod
    def payment(cls, partner, amount, date, currency=None, company=None):
        company = company or cls.company_a
        values = {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": amount,
            "date": date,
            "journal_id": (cls.bank if company == cls.company_a else cls.bank_b).id,
        }
        if currency:
            values["currency_id"] = currency.id
        payment = cls.env["account.payment"].with_company(company).create(values)
        payment.action_post()
        return payment

    def expected_preview(self):
        receivable = f"{self.receivable.code} {self.receivable.name}"
        return (
            f"Reconcile in {self.company_a.name}, account {receivable}, partner partner_a:\n"
            f"- payment {self.pay_a.name} of 2019-04-01: 500.00 USD open\n"
            f"- {self.inv_tax.name} due 2019-01-10: 1150.00 USD open\n"
            f"Matched: 500.00 USD. After: {self.inv_tax.name} stays open for 650.00 USD (partially paid); "
            "the payment is fully used."
        )

    def assertUntouched(self):
        self.assertEqual(self.inv_tax.amount_residual, 1150.0)
        self.assertEqual(self.inv_tax.payment_state, "not_paid")
        self.assertFalse(self.inv_tax.line_ids.matched_credit_ids)

    # === THE THREE MODES, THROUGH THE FINANCE AGENT === #

    def test_shadow_mode_previews_both_items_and_what_stays_open(self):
        _model, session = self.run_turn("Match pay_a with the invoice.", (WIRE, self.call_args), "I would.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertUntouched()

    def test_approval_mode_reconciles_once_approved_as_the_preview_said(self):
        self.needs_approval()
        model, session = self.run_turn("Match pay_a with the invoice.", (WIRE, self.call_args), "unused")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertUntouched()
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        # The invoice's own figures after Odoo's reconcile: what the preview announced.
        self.assertEqual(self.inv_tax.amount_residual, 650.0)
        self.assertEqual(self.inv_tax.payment_state, "partial")
        self.assertEqual(
            execution.output,
            {
                "company": self.company_a.name,
                "account": f"{self.receivable.code} {self.receivable.name}",
                "partner": "partner_a",
                "currency": "USD",
                "payment": {
                    "name": f"payment {self.pay_a.name}",
                    "journal_item_id": execution.output["payment"]["journal_item_id"],
                    "open_before": 500.0,
                    "open_after": 0.0,
                },
                "invoice": {
                    "name": self.inv_tax.name,
                    "id": self.inv_tax.id,
                    "open_before": 1150.0,
                    "open_after": 650.0,
                    "payment_state_before": "not_paid",
                    "payment_state_after": "partial",
                },
            },
        )
        self.assertEqual(self.inv_tax.line_ids.matched_credit_ids.credit_move_id.payment_id, self.pay_a)

    def test_approval_mode_rejected_reconciles_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("Match pay_a with the invoice.", (WIRE, self.call_args), "unused")
        self.decide(session, model, approve=False, answer="Left open.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertUntouched()

    def test_a_trusted_agent_is_refused_the_reconciliation(self):
        self.trusted()
        model, session = self.run_turn("Match pay_a with the invoice.", (WIRE, self.call_args), "I may not.")
        execution, told = self.assertToolFailed(model, session, "denied")
        self.assertIn("only once a person approves it", told.content)
        self.assertFalse(session.approval_ids)
        self.assertUntouched()

    def test_an_ai_manager_cannot_lift_the_approval_by_marking_the_tool_read(self):
        """An AI manager (not an administrator) may edit tool rows, but the approval a tool needs
        is its Python declaration's: marking the row "read" runs nothing without a person."""
        manager = self.new_user("fin_ai_manager", "ai_core.group_aia_manager", self.env.company)
        tool = self.env.ref("ai_agents_finance.tool_finance_reconcile_match").with_user(manager)
        tool.write({"mode": "read"})
        self.trusted()
        model, session = self.run_turn("Match pay_a with the invoice.", (WIRE, self.call_args), "I may not.")
        execution, told = self.assertToolFailed(model, session, "denied")
        self.assertIn("only once a person approves it", told.content)
        self.assertUntouched()

    def test_the_catalogue_row_says_each_call_needs_approval(self):
        tool = self.env.ref("ai_agents_finance.tool_finance_reconcile_match").sudo()
        self.assertEqual(tool.mode, "write")
        self.assertIn("approval of each call", tool.requirements)

    # === ODOO'S RECONCILIATION === #

    def test_a_whole_payment_in_a_second_currency_pays_the_invoice(self):
        output = self.call(TOOL, {"payment": self.pay_eur.id, "invoice": self.inv_eur.id})
        self.assertEqual(output["currency"], "EUR")
        self.assertEqual((output["payment"]["open_before"], output["invoice"]["open_before"]), (600.0, 600.0))
        self.assertTrue(self.inv_eur.currency_id.is_zero(self.inv_eur.amount_residual))
        self.assertIn(self.inv_eur.payment_state, ("paid", "in_payment"))
        self.assertEqual(output["invoice"]["open_after"], self.inv_eur.amount_residual)
        self.assertEqual(output["invoice"]["payment_state_after"], self.inv_eur.payment_state)

    def test_the_payments_journal_item_may_be_given_instead(self):
        line = self.pay_a.move_id.line_ids.filtered(lambda item: item.account_id == self.receivable)
        output = self.call(TOOL, {"payment_line": line.id, "invoice": self.inv_tax.id})
        self.assertEqual(output["invoice"]["open_after"], self.inv_tax.amount_residual)
        self.assertTrue(line.reconciled)

    def test_a_second_call_finds_nothing_left_to_reconcile(self):
        self.call(TOOL, self.call_args)
        with self.assertRaisesRegex(ToolInputError, "is already reconciled: nothing of it is open"):
            self.call(TOOL, self.call_args)
        self.assertEqual(self.inv_tax.amount_residual, 650.0)

    def test_mismatched_or_closed_items_are_refused(self):
        bill_line = self.bill.line_ids.filtered(
            lambda item: item.account_id.account_type == "liability_payable"
        )
        self.assertInputErrors(
            TOOL,
            [
                ({"payment": self.pay_a.name, "invoice": self.inv_eur.name}, "not the same partner"),
                ({"payment": self.pay_eur.name, "invoice": self.inv_analytic.name}, "is already reconciled"),
                ({"payment_line": bill_line.id, "invoice": self.inv_tax.name}, "not the same account"),
                ({"payment": self.pay_a.name, "invoice": self.inv_draft.id}, "is not posted"),
                ({"invoice": self.inv_tax.name}, "exactly one of payment or payment_line"),
                ({"payment": "PAY/nope", "invoice": self.inv_tax.name}, "unknown payment 'PAY/nope'"),
                (
                    {"payment_line": self.inv_tax.line_ids[0].id + 10**6, "invoice": self.inv_tax.name},
                    "unknown journal item id",
                ),
            ],
        )
        self.assertUntouched()

    # === RIGHTS AND COMPANIES === #

    def test_users_without_invoicing_rights_are_refused(self):
        for user in (self.accountant, self.user):
            with self.subTest(user=user.login):
                self.assertIn("Invoicing", self.assertDenied(TOOL, self.call_args, user))
        self.assertUntouched()

    def test_company_b_items_are_refused_in_a_company_a_session(self):
        pay_b = self.payment(self.partner_a, 100.0, "2019-04-03", company=self.company_b)
        with self.assertRaisesRegex(ToolInputError, "unknown invoice id"):
            self.call(TOOL, {"payment": self.pay_a.id, "invoice": self.inv_b.id}, user=self.billing_ab)
        with self.assertRaisesRegex(ToolInputError, "unknown payment id"):
            self.call(TOOL, {"payment": pay_b.id, "invoice": self.inv_tax.id}, user=self.billing_ab)
        self.assertUntouched()
        output = self.call(
            TOOL,
            {"payment": pay_b.id, "invoice": self.inv_b.id},
            user=self.billing_ab,
            company=self.company_b,
        )
        self.assertEqual(output["invoice"]["open_after"], self.inv_b.amount_residual)
