from odoo import models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    def _aia_secret_models(self):
        return [*super()._aia_secret_models(), "aia.knowledge.base"]
