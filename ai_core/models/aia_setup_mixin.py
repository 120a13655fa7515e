from odoo import api, models


class AiaSetupMixin(models.AbstractModel):
    """Configuration that turns read through the process-wide setup cache (agents, their models
    and providers, tools, knowledge bases): creating, writing or deleting any of it clears that
    cache, in every worker (Odoo's registry cache signalling)."""

    _name = "aia.setup.mixin"
    _description = "AI Turn Configuration"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
