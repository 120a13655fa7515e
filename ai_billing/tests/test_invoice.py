from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BillingCase, at


@tagged("post_install", "-at_install")
class TestInvoice(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", cls.company, install_demo=False)
        cls.tax = cls.env["account.tax"].create(
            {"name": "AI VAT 10%", "amount": 10, "type_tax_use": "sale", "company_id": cls.company.id}
        )
        cls.product = cls.env.ref("ai_billing.product_ai_usage")
        cls.product.taxes_id = [Command.set(cls.tax.ids)]
        cls.customer = cls.env["res.partner"].create({"name": "Tenant Customer Ltd"})
        cls.company.aia_billing_partner_id = cls.customer
        cls.version.included_amount = 2

    def confirmed_statement(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        statement.action_confirm()
        return statement

    def invoices_of(self, statement):
        return self.env["account.move"].search([("invoice_origin", "=", statement.name)])

    def test_a_draft_invoice_with_the_statements_lines_is_created_once(self):
        statement = self.confirmed_statement()
        statement.action_create_invoice()
        invoice = statement.invoice_id
        self.assertEqual(statement.state, "invoiced")
        self.assertEqual(invoice.aia_billing_statement_ids, statement)
        self.assertEqual(
            (invoice.move_type, invoice.state, invoice.partner_id, invoice.currency_id, invoice.company_id),
            ("out_invoice", "draft", self.customer, self.usd, self.company),
        )
        billed = statement.line_ids.filtered("amount")
        # Every line with an amount (not the 0.00 knowledge queries), the quota included.
        self.assertEqual(len(billed), 8)
        self.assertEqual(invoice.invoice_line_ids.mapped("price_unit"), billed.mapped("amount"))
        self.assertEqual(invoice.invoice_line_ids.mapped("quantity"), [1.0] * 8)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.product)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.tax)
        self.assertEqual(invoice.amount_untaxed, statement.amount_total)
        self.assertEqual(statement.amount_total, 5.96)
        self.assertIn("1,234,567 tokens × 3.000000 per 1M", invoice.invoice_line_ids[1].name)

        # Asking again, for one statement or several, creates nothing.
        statement.action_create_invoice()
        (statement | statement).action_create_invoice()
        self.assertEqual(self.invoices_of(statement), invoice)
        self.assertEqual(len(invoice.invoice_line_ids), 8)

    def test_deleting_the_draft_invoice_lets_the_statement_be_invoiced_again(self):
        statement = self.confirmed_statement()
        statement.action_create_invoice()
        statement.invoice_id.unlink()
        self.assertEqual((statement.state, statement.invoice_id.id), ("confirmed", False))
        statement.action_create_invoice()
        self.assertEqual(len(self.invoices_of(statement)), 1)

    def test_only_confirmed_statements_with_a_customer_are_invoiced(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        with self.assertRaisesRegex(UserError, "Confirm"):
            statement.action_create_invoice()
        statement.action_confirm()
        statement.partner_id = False
        with self.assertRaisesRegex(UserError, "no customer"):
            statement.action_create_invoice()
        self.assertFalse(self.invoices_of(statement))

    def test_a_plan_sold_by_a_company_is_invoiced_by_that_company(self):
        self.plan.company_id = self.company
        tenant = self.other_company
        tenant.aia_billing_partner_id = tenant.partner_id
        self.event(at("2026-03-05 00:00:00"), company=tenant, user=self.user_b, input_tokens=1_000_000)
        statement = self.statement(company=tenant)
        statement.action_compute()
        statement.action_confirm()
        self.assertEqual(statement.partner_id, tenant.partner_id)
        statement.action_create_invoice()
        invoice = statement.invoice_id
        self.assertEqual((invoice.company_id, invoice.partner_id), (self.company, tenant.partner_id))
        # 1M tokens at 3.00, less the 2.00 included each month.
        self.assertEqual((statement.amount_usage, invoice.amount_untaxed), (3.0, 1.0))
