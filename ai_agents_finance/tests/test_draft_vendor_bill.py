from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceWriteCase

TOOL = "finance.draft_vendor_bill"
WIRE = "finance_draft_vendor_bill"


@tagged("post_install", "-at_install")
class TestDraftVendorBill(FinanceWriteCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # product_a: bought with the 15 % purchase tax of company A (Odoo's account test data).
        cls.chairs = {
            "vendor": "partner_a",
            "reference": "F-2019-001",
            "bill_date": "2019-05-02",
            "lines": [
                {
                    "description": "Office chairs",
                    "quantity": 2,
                    "unit_price": 150.0,
                    "product": cls.product_a.id,
                }
            ],
        }
        cls.expense = cls.company_data["default_account_expense"]
        cls.purchase_journal = cls.company_data["default_journal_purchase"]

    def bills(self, partner=None):
        return self.env["account.move"].search(
            [
                ("move_type", "=", "in_invoice"),
                ("partner_id", "=", (partner or self.partner_a).id),
                ("id", "!=", self.bill.id),
            ]
        )

    def expected_preview(self):
        return (
            f"Create a draft vendor bill in {self.company_a.name} from partner_a (bill date 2019-05-02, "
            f"reference F-2019-001, in USD, journal {self.purchase_journal.code}):\n"
            f"- Office chairs ({self.product_a.display_name}): 2 x 150.00 USD, account "
            f"{self.expense.code} {self.expense.name}, taxes {self.tax_purchase_a.name}\n"
            "Untaxed 300.00 USD, tax 45.00 USD, total 345.00 USD. The bill stays a draft: nothing is posted."
        )

    # === THE THREE MODES, THROUGH THE FINANCE AGENT === #

    def test_shadow_mode_previews_the_bill_and_its_totals_and_creates_nothing(self):
        _model, session = self.run_turn("Record the chairs bill.", (WIRE, self.chairs), "I would create it.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertFalse(self.bills())

    def test_approval_mode_creates_the_draft_once_approved_as_the_requester(self):
        self.needs_approval()
        model, session = self.run_turn("Record the chairs bill.", (WIRE, self.chairs), "unused")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertFalse(self.bills())
        self.decide(session, model, approve=True)
        self.assertEqual(session.execution_ids.status, "ok")
        bill = self.bills()
        self.assertEqual(len(bill), 1)
        self.assertEqual((bill.state, bill.create_uid), ("draft", self.billing_user))

    def test_approval_mode_rejected_creates_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("Record the chairs bill.", (WIRE, self.chairs), "unused")
        self.decide(session, model, approve=False, answer="Not recorded.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertFalse(self.bills())

    def test_trusted_mode_creates_the_draft_and_the_audit_row_describes_it(self):
        self.trusted()
        _model, session = self.run_turn("Record the chairs bill.", (WIRE, self.chairs), "Recorded.")
        [execution] = session.execution_ids
        bill = self.bills()
        self.assertEqual(execution.status, "ok")
        # Odoo's own figures of the bill it made: the product's vendor tax, the expense account.
        self.assertEqual((bill.amount_untaxed, bill.amount_tax, bill.amount_total), (300.0, 45.0, 345.0))
        self.assertEqual(bill.invoice_line_ids.tax_ids, self.tax_purchase_a)
        self.assertEqual(
            execution.output,
            {
                "company": self.company_a.name,
                "bill": {
                    "id": bill.id,
                    "state": "draft",
                    "vendor": "partner_a",
                    "reference": "F-2019-001",
                    "bill_date": "2019-05-02",
                    "journal": self.purchase_journal.code,
                    "fiscal_position": None,
                    "currency": "USD",
                    "lines": [
                        {
                            "description": "Office chairs",
                            "product": self.product_a.display_name,
                            "account": f"{self.expense.code} {self.expense.name}",
                            "quantity": 2.0,
                            "unit_price": 150.0,
                            "taxes": [self.tax_purchase_a.name],
                            "subtotal": 300.0,
                        }
                    ],
                    "amount_untaxed": 300.0,
                    "amount_tax": 45.0,
                    "amount_total": 345.0,
                },
            },
        )

    # === ODOO'S FIGURES === #

    def test_the_preview_totals_are_the_created_bills_in_a_second_currency(self):
        args = {
            "vendor": self.partner_b.id,
            "currency": "EUR",
            "lines": [
                {
                    "description": "Consulting",
                    "quantity": 3,
                    "unit_price": 333.33,
                    "product": self.product_a.id,
                },
                {"description": "Travel", "unit_price": 99.99, "account": self.expense.code},
            ],
        }
        _model, session = self.run_turn("Record the consulting bill.", (WIRE, args), "Would create it.")
        preview = session.execution_ids.preview
        bill = self.env["account.move"].browse(self.call(TOOL, args)["bill"]["id"])
        self.assertEqual(bill.currency_id, self.eur)
        self.assertEqual(bill.state, "draft")
        self.assertIn(
            f"Untaxed {bill.amount_untaxed:.2f} EUR, tax {bill.amount_tax:.2f} EUR, "
            f"total {bill.amount_total:.2f} EUR.",
            preview,
        )
        # 999.99 + 15 % tax on the product line; the travel line takes the account's taxes only.
        self.assertAlmostEqual(bill.amount_untaxed, 1099.98)
        self.assertIn("in EUR", preview)

    def test_the_same_vendor_reference_is_not_recorded_twice(self):
        first = self.call(TOOL, self.chairs)["bill"]
        with self.assertRaisesRegex(
            ToolInputError, f"'F-2019-001' is already recorded: .*id {first['id']}, draft"
        ):
            self.call(TOOL, self.chairs)
        self.assertEqual(len(self.bills()), 1)
        # Another reference is another bill.
        self.call(TOOL, {**self.chairs, "reference": "F-2019-002"})
        self.assertEqual(len(self.bills()), 2)

    def test_invalid_bills_are_refused(self):
        line = {"description": "Paper", "unit_price": 5.0}
        receivable = self.company_data["default_account_receivable"]
        self.assertInputErrors(
            TOOL,
            [
                ({"vendor": "partner_a", "lines": []}, "should be non-empty"),
                (
                    {"vendor": "partner_a", "lines": [{**line, "quantity": 0}]},
                    "less than or equal to the minimum",
                ),
                ({"vendor": "Nobody Ltd", "lines": [line]}, "unknown vendor 'Nobody Ltd'"),
                ({"vendor": "partner_a", "lines": [line], "currency": "XYZ"}, "unknown currency 'XYZ'"),
                ({"vendor": "partner_a", "lines": [line], "currency": "GBP"}, "currency GBP is not active"),
                ({"vendor": "partner_a", "lines": [{**line, "account": receivable.code}]}, "unknown account"),
                (
                    {"vendor": "partner_a", "lines": [{**line, "product": "no such product"}]},
                    "unknown product",
                ),
                ({"vendor": "partner_a", "lines": [line], "bill_date": "2019-02-30"}, "is not a 'date'"),
            ],
        )
        self.assertFalse(self.bills())

    # === RIGHTS AND COMPANIES === #

    def test_users_without_invoicing_rights_are_refused(self):
        for user in (self.accountant, self.user):
            with self.subTest(user=user.login):
                self.assertIn("Invoicing", self.assertDenied(TOOL, self.chairs, user))
        self.assertFalse(self.bills())

    def test_company_b_records_are_refused_in_a_company_a_session(self):
        vendor_b = self.env["res.partner"].create(
            {"name": "Kestrel Supplies", "company_id": self.company_b.id}
        )
        account_b = self.company_b_data["default_account_expense"]
        line = {"description": "Paper", "unit_price": 5.0}
        with self.assertRaisesRegex(ToolInputError, "unknown vendor id"):
            self.call(TOOL, {"vendor": vendor_b.id, "lines": [line]}, user=self.billing_ab)
        with self.assertRaisesRegex(ToolInputError, "unknown account id"):
            self.call(
                TOOL,
                {"vendor": "partner_a", "lines": [{**line, "account": account_b.id}]},
                user=self.billing_ab,
            )
        self.assertFalse(self.bills(vendor_b) | self.bills())
        # In company B's session the bill is company B's.
        output = self.call(
            TOOL, {"vendor": vendor_b.id, "lines": [line]}, user=self.billing_ab, company=self.company_b
        )
        self.assertEqual(self.env["account.move"].browse(output["bill"]["id"]).company_id, self.company_b)
