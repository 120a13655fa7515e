from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    aia_billing_statement_ids = fields.One2many(
        "aia.billing.statement",
        "invoice_id",
        string="AI usage statements",
        readonly=True,
        groups="ai_core.group_aia_manager",
    )

    def unlink(self):
        # A deleted draft invoice hands its statements back to "confirmed", ready to invoice again.
        # The accountant may have no AI billing rights: this bookkeeping is done as superuser.
        statements = self.env["aia.billing.statement"].sudo().search([("invoice_id", "in", self.ids)])
        result = super().unlink()
        statements.write({"state": "confirmed"})
        return result
