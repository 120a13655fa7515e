from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    aia_billing_plan_id = fields.Many2one(
        "aia.billing.plan", string="AI billing plan", help="Prices the company's monthly AI usage statements."
    )
    aia_billing_partner_id = fields.Many2one(
        "res.partner",
        string="AI usage customer",
        help="The customer invoiced for the company's AI usage. Empty: statements only, no invoice.",
    )
