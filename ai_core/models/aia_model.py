import os
from decimal import Decimal

from odoo import api, fields, models

from ..ai_engine import ModelPrice

PRICE_DIGITS = (16, 6)


class AiaModel(models.Model):
    _name = "aia.model"
    _inherit = ["aia.setup.mixin"]
    _description = "AI Model"
    _order = "provider_id, name"

    name = fields.Char(
        string="Model ID", required=True, help="The provider's model id, e.g. claude-sonnet-4-6."
    )
    label = fields.Char()
    active = fields.Boolean(default=True)
    provider_id = fields.Many2one("aia.provider", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="provider_id.company_id", store=True, index=True)
    context_window = fields.Integer(default=200000)
    max_output_tokens = fields.Integer(default=4096)
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.ref("base.USD", raise_if_not_found=False)
    )
    price_input = fields.Float("Input / 1M tokens", digits=PRICE_DIGITS)
    price_output = fields.Float("Output / 1M tokens", digits=PRICE_DIGITS)
    price_cache_read = fields.Float("Cache read / 1M tokens", digits=PRICE_DIGITS)
    price_cache_write = fields.Float("Cache write / 1M tokens", digits=PRICE_DIGITS)

    @api.depends("name", "label", "provider_id.name")
    def _compute_display_name(self):
        for model in self:
            model.display_name = f"{model.label or model.name} ({model.provider_id.name})"

    # === BUSINESS METHODS === #

    def _aia_use_environment_model(self):
        """Demo data: take the model id from ANTHROPIC_MODEL when the server's environment sets it."""
        model_id = os.environ.get("ANTHROPIC_MODEL")
        if model_id:
            self.write({"name": model_id})

    def _aia_price(self):
        """Prices as exact Decimals: floats would drift over millions of calls."""
        self.ensure_one()
        return ModelPrice(
            input=Decimal(str(self.price_input)),
            output=Decimal(str(self.price_output)),
            cache_read=Decimal(str(self.price_cache_read)),
            cache_write=Decimal(str(self.price_cache_write)),
        )
