from odoo import api, fields, models

from .aia_billing_plan import PRICE_DIGITS


class AiaBillingPlanPrice(models.Model):
    _name = "aia.billing.plan.price"
    _description = "AI Billing Price per Model"
    _order = "version_id, model_name"

    version_id = fields.Many2one("aia.billing.plan.version", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="version_id.company_id", store=True, index=True)
    model_name = fields.Char(
        "Model", required=True, help="The model id as the usage ledger records it, e.g. claude-sonnet-4-6."
    )
    price_input = fields.Float("Input / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_output = fields.Float("Output / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_cache_read = fields.Float("Cache read / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_cache_write = fields.Float("Cache write / 1M tokens", digits=PRICE_DIGITS, default=0.0)

    _version_model_unique = models.Constraint(
        "UNIQUE(version_id, model_name)", "A model has one price per plan version."
    )
    _prices_positive = models.Constraint(
        "CHECK(price_input >= 0 AND price_output >= 0 AND price_cache_read >= 0 AND price_cache_write >= 0)",
        "Prices cannot be negative.",
    )

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        prices = super().create(vals_list)
        prices.version_id._aia_check_not_billed()
        return prices

    def write(self, vals):
        self.version_id._aia_check_not_billed()
        result = super().write(vals)
        self.version_id._aia_check_not_billed()
        return result

    def unlink(self):
        self.version_id._aia_check_not_billed()
        return super().unlink()
