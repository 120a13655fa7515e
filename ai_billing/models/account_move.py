from odoo import Command, api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    aia_billing_statement_ids = fields.One2many(
        "aia.billing.statement",
        "invoice_id",
        string="AI usage statements",
        readonly=True,
        groups="ai_core.group_aia_manager",
    )

    # === CRUD === #

    def unlink(self):
        # A deleted draft invoice hands its statements back to "confirmed", ready to invoice again.
        # The accountant may have no AI billing rights: this bookkeeping is done as superuser.
        statements = self.env["aia.billing.statement"].sudo().search([("invoice_id", "in", self.ids)])
        result = super().unlink()
        statements.write({"state": "confirmed"})
        return result

    # === BUSINESS METHODS === #

    @api.model
    def _aia_create_from_statement(self, statement):
        """A draft customer invoice of ``statement`` with one line per statement line (quantity 1
        at the line's amount, so the invoice adds up to the statement to the cent), with the plan's
        product and therefore its income account and taxes."""
        statement.ensure_one()
        company = statement.invoice_company_id
        product = statement.plan_id.product_id
        return self.with_company(company).create(
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": statement.partner_id.id,
                "currency_id": statement.currency_id.id,
                "invoice_origin": statement.name,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": f"{statement.name}: {line._aia_invoice_label()}",
                            "quantity": 1,
                            "price_unit": line.amount,
                        }
                    )
                    for line in statement.line_ids.filtered("amount")
                ],
            }
        )
